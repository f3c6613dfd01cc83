package dev.seer.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The Fashion-MNIST data set (Xiao, Rasul and Vollgraf 2017): 28 x 28 grayscale images of clothing in ten
 * classes, 60000 for training and 10000 for testing. On Debian, {@code apt-get install dataset-fashion-mnist}
 * puts the four gzip'd IDX files in {@link #DEFAULT_DIR}; un-gzipped copies (without ".gz") are read too.
 */
public final class FashionMnist {
    /** Where the Debian package dataset-fashion-mnist installs the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** The ten class names, indexed by label. */
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** Image height and width. */
    public static final int SIZE = 28;

    static final String INSTALL_HINT = "install the data set with: apt-get install dataset-fashion-mnist"
            + " (it puts the files in " + DEFAULT_DIR + ")";

    /** Which half of the data set. */
    public enum Split {
        /** 60000 training images. */
        TRAIN("train", 60000),
        /** 10000 test images. */
        TEST("t10k", 10000);

        private final String prefix;
        private final int size;

        Split(String prefix, int size) {
            this.prefix = prefix;
            this.size = size;
        }

        /** The file name of the images, e.g. {@code t10k-images-idx3-ubyte.gz}. */
        public String imagesFile() {
            return prefix + "-images-idx3-ubyte.gz";
        }

        /** The file name of the labels, e.g. {@code t10k-labels-idx1-ubyte.gz}. */
        public String labelsFile() {
            return prefix + "-labels-idx1-ubyte.gz";
        }

        /** The number of examples in the official files. */
        public int size() {
            return size;
        }
    }

    /**
     * Images and their labels (0..9, see {@link #CLASS_NAMES}); {@code labels[i]} belongs to image i. The label
     * array is not copied.
     */
    public record Dataset(Split split, Idx.ImageSet images, byte[] labels) {
        /** The number of examples. */
        public int size() {
            return labels.length;
        }

        /** Label of example {@code i}, 0..9. */
        public int label(int i) {
            return labels[i];
        }

        @Override
        public String toString() {
            return "FashionMnist.Dataset[" + split + ", " + images + "]";
        }
    }

    private FashionMnist() {
    }

    /** Loads a split from {@link #DEFAULT_DIR}. */
    public static Dataset load(Split split) throws IOException {
        return load(DEFAULT_DIR, split);
    }

    /**
     * Loads a split from {@code dir}, checking that the images are 28 x 28, the labels are 0..9 and the counts
     * agree (any count is accepted, so that subsets work).
     *
     * @throws DataFileException if the directory or a file is missing (the message says how to install the data
     *                           set and which path was looked at) or a file is invalid
     */
    public static Dataset load(Path dir, Split split) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new DataFileException(dir, "the Fashion-MNIST directory", "no such directory; " + INSTALL_HINT);
        }
        Path imagesPath = find(dir, split.imagesFile(), "Fashion-MNIST " + split + " images");
        Path labelsPath = find(dir, split.labelsFile(), "Fashion-MNIST " + split + " labels");
        Idx.ImageSet images = Idx.readImages(imagesPath);
        if (images.rows() != SIZE || images.cols() != SIZE) {
            throw new DataFileException(imagesPath, SIZE + " x " + SIZE + " images", images.rows() + " x " + images.cols());
        }
        byte[] labels = Idx.readLabels(labelsPath, CLASS_NAMES.size());
        if (labels.length != images.count()) {
            throw new DataFileException(labelsPath, images.count() + " labels (one per image in " + imagesPath.getFileName() + ")",
                    String.valueOf(labels.length));
        }
        return new Dataset(split, images, labels);
    }

    private static Path find(Path dir, String gzName, String what) throws DataFileException {
        Path gz = dir.resolve(gzName);
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        Path plain = dir.resolve(gzName.substring(0, gzName.length() - ".gz".length()));
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        throw new DataFileException(gz, "the " + what, "no such file (nor " + plain.getFileName() + "); " + INSTALL_HINT);
    }
}
