package dev.seer.models;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;

/** Class-path resources of the shipped models, as streams or, for readers that take a path, as paths. */
final class ClassPathResources {
    /** A reader of a path. */
    interface PathReader<T> {
        T read(Path path) throws IOException;
    }

    private ClassPathResources() {
    }

    /** How messages name a resource: {@code classpath:/dev/seer/models/...}. */
    static Path name(String resource) {
        return Path.of("classpath:" + resource);
    }

    /**
     * Opens a resource.
     *
     * @throws IOException naming the resource and how to get it back when it is missing
     */
    static InputStream open(String resource, String what) throws IOException {
        InputStream in = ClassPathResources.class.getResourceAsStream(resource);
        if (in == null) {
            throw missing(resource, what);
        }
        return in;
    }

    /**
     * Runs {@code reader} on the resource as a path: the file itself in a classes directory, the entry of the jar
     * through the zip file system; only a class loader with its own URL scheme (a jar inside a jar) gets a temporary
     * copy, deleted straight after reading. For small files (configs).
     */
    static <T> T withPath(String resource, String what, PathReader<T> reader) throws IOException {
        URL url = ClassPathResources.class.getResource(resource);
        if (url == null) {
            throw missing(resource, what);
        }
        return withPath(url, resource, reader);
    }

    /** {@link #withPath(String, String, PathReader)} for the resource's URL. */
    static <T> T withPath(URL url, String resource, PathReader<T> reader) throws IOException {
        URI uri;
        try {
            uri = url.toURI();
        } catch (URISyntaxException e) {
            throw new IOException("class-path resource " + resource + " has an unusable URL " + url + ": " + e.getMessage(), e);
        }
        if ("file".equals(uri.getScheme())) {
            return reader.read(Path.of(uri));
        }
        String inner = uri.getRawSchemeSpecificPart();
        int bang = inner.indexOf("!/");
        if ("jar".equals(uri.getScheme()) && inner.startsWith("file:") && bang > 0 && inner.indexOf("!/", bang + 2) < 0) {
            Path jar = Path.of(URI.create(inner.substring(0, bang)));
            try (FileSystem zip = FileSystems.newFileSystem(jar)) {
                return reader.read(zip.getPath(inner.substring(bang + 1)));
            }
        }
        Path tmp = Files.createTempFile("seer-", "-" + resource.substring(resource.lastIndexOf('/') + 1));
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return reader.read(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static IOException missing(String resource, String what) {
        return new IOException(what + " (class-path resource " + resource + ") is missing: it ships in "
                + "java/models/src/main/resources" + resource + "; rebuild the jar (mvn package) from a complete checkout");
    }
}
