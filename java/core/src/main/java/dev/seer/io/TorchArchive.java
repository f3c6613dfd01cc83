package dev.seer.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A {@code torch.save} archive read in Java: the zip container, then {@code <prefix>/data.pkl} through
 * {@link TorchPickle}, whose storages are slices of the archive's {@code <prefix>/data/<key>} records (no copy).
 *
 * <p>The file's declared offsets and lengths are checked before use: the end records (zip64 included, as
 * torch.save writes them), every central directory entry, its local header and data must lie inside the file.
 * torch.save stores every record uncompressed, so a compressed (or encrypted) entry is rejected rather than
 * inflated: its declared size is what would be allocated.
 */
final class TorchArchive {
    /** What the zip checks expect, in {@link CheckpointException}'s words. */
    private static final String ARCHIVE = "a torch.save archive";

    private final Path file;
    private final MemorySegment b;

    private TorchArchive(Path file, MemorySegment bytes) {
        this.file = file;
        this.b = bytes;
    }

    /** One archive member: its name and where its bytes lie in the file. */
    record Entry(String name, long offset, long size) {
    }

    /**
     * Reads the archive and unpickles its {@code <prefix>/data.pkl}.
     *
     * @param bytes the whole file (mapped); storages returned are slices of it
     * @return the pickled object, in {@link TorchPickle}'s values
     * @throws CheckpointException naming the first problem found
     */
    static Object load(Path file, MemorySegment bytes) throws CheckpointException {
        TorchArchive a = new TorchArchive(file, bytes);
        List<Entry> entries = a.entries();
        String first = entries.getFirst().name();
        int slash = first.indexOf('/');
        if (slash <= 0) {
            throw a.bad(ARCHIVE, "first entry '" + first + "' outside a folder");
        }
        String prefix = first.substring(0, slash + 1);
        String dataPrefix = (prefix + "data/").toLowerCase(Locale.ROOT);
        // Zip readers (PyTorch's miniz among them) look names up ignoring ASCII case; equal names were refused.
        Map<String, MemorySegment> records = new HashMap<>();
        Entry pickle = null;
        Entry byteOrder = null;
        for (Entry e : entries) {
            String lower = e.name().toLowerCase(Locale.ROOT);
            if (lower.startsWith(dataPrefix)) {
                MemorySegment record = bytes.asSlice(e.offset(), e.size());
                records.put(lower.substring(dataPrefix.length()), record);
            } else if (pickle == null && lower.equals((prefix + "data.pkl").toLowerCase(Locale.ROOT))) {
                pickle = e;
            } else if (byteOrder == null && lower.equals((prefix + "byteorder").toLowerCase(Locale.ROOT))) {
                byteOrder = e;
            }
        }
        if (pickle == null) {
            throw a.bad(ARCHIVE, "no " + prefix + "data.pkl");
        }
        if (byteOrder != null) {
            String order = new String(a.bytes(byteOrder), StandardCharsets.ISO_8859_1).strip();
            if (!order.equals("little")) {
                throw a.bad(ARCHIVE + " of little-endian storages", "byte order '" + order + "' in " + byteOrder.name());
            }
        }
        return TorchPickle.load(file, a.bytes(pickle), pickle.name(), records);
    }

    /**
     * The most bytes of {@code data.pkl} read: torch.save writes a few hundred bytes per tensor, so even a state
     * dict of 100,000 tensors stays far below; a quarter of the free heap where that is less.
     */
    static final long MAX_PICKLE_BYTES = 256L << 20;

    /** A small entry's bytes, copied. */
    private byte[] bytes(Entry e) throws CheckpointException {
        long limit = Math.min(MAX_PICKLE_BYTES, TorchPickle.freeHeapBytes() / 4);
        if (e.size() > limit) {
            throw bad(ARCHIVE + " whose " + e.name() + " has at most " + limit + " bytes", e.size() + " bytes");
        }
        return b.asSlice(e.offset(), e.size()).toArray(ValueLayout.JAVA_BYTE);
    }

    private CheckpointException bad(String expected, String found) {
        return new CheckpointException(file, null, expected, found);
    }

    // ---- zip ------------------------------------------------------------------------------------------------

    /** Entries read at most: torch.save writes one per storage and three more. */
    static final long MAX_ENTRIES = 1 << 20;

    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;

    /** The central directory's entries, in order, each checked to lie inside the file; never empty. */
    private List<Entry> entries() throws CheckpointException {
        long n = b.byteSize();
        long eocd = -1;
        for (long p = n - 22; p >= Math.max(0, n - 22 - 0xFFFF); p--) {
            if (i32(p) == EOCD) {
                eocd = p;
                break;
            }
        }
        if (eocd < 0 && n >= 2 && u8(0) == 0x80 && u8(1) == 2) {
            throw bad(ARCHIVE + " (the zip format of PyTorch 1.6 and later)", "a legacy torch.save file (a bare pickle "
                    + "stream); load and save it again with a current PyTorch, or convert it to safetensors");
        }
        if (eocd < 0 && Safetensors.looksLikeSafetensors(b)) {
            throw bad(ARCHIVE, "a safetensors file (by its content; its name says .pt): load it as safetensors, "
                    + "or rename it to .safetensors");
        }
        if (eocd < 0) {
            throw bad(ARCHIVE, "no zip end of central directory record in " + n + " bytes");
        }
        long count = u16(eocd + 10);
        long cdSize = u32(eocd + 12);
        long cdOffset = u32(eocd + 16);
        long cdLimit = eocd;
        if (eocd >= 20 && i32(eocd - 20) == ZIP64_LOCATOR) {
            long z = i64(eocd - 12);
            if (z < 0 || z > eocd - 20 - 56 || i32(z) != ZIP64_EOCD) {
                throw bad(ARCHIVE, "a zip64 locator pointing to " + Long.toUnsignedString(z) + ", not to a zip64 end record");
            }
            long p = z;
            count = zip64(count, 0xFFFF, i64(p + 32), "entry count");
            cdSize = zip64(cdSize, 0xFFFFFFFFL, i64(p + 40), "central directory size");
            cdOffset = zip64(cdOffset, 0xFFFFFFFFL, i64(p + 48), "central directory offset");
            cdLimit = z;
        }
        if (count == 0) {
            throw bad(ARCHIVE, "an empty zip archive");
        }
        if (count > MAX_ENTRIES) {
            throw bad(ARCHIVE + " of at most " + MAX_ENTRIES + " entries", Long.toUnsignedString(count) + " entries");
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > cdLimit - cdSize) {
            throw bad(ARCHIVE, "a central directory of " + Long.toUnsignedString(cdSize) + " bytes at offset "
                    + Long.toUnsignedString(cdOffset) + ", beyond its end records at " + cdLimit);
        }
        long end = cdOffset + cdSize;
        List<Entry> entries = new ArrayList<>();
        // Zip readers disagree on which of two equal names counts (Seer's took the first, torch.load the last),
        // so a scanner and a loader could see different contents: equal names are refused. Names are compared
        // ignoring ASCII case, as PyTorch's miniz looks them up.
        Set<String> names = new HashSet<>();
        long p = cdOffset;
        for (long i = 0; i < count; i++) {
            if (p > end - 46 || i32(p) != CENTRAL) {
                throw bad(ARCHIVE, "central directory entry " + i + " of " + count + " missing or cut at offset " + p);
            }
            int nameLen = u16(p + 28);
            int extraLen = u16(p + 30);
            long next = p + 46 + nameLen + extraLen + u16(p + 32);
            if (next > end) {
                throw bad(ARCHIVE, "central directory entry " + i + " running past the directory's end");
            }
            String name = new String(b.asSlice(p + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1);
            if (!names.add(name.toLowerCase(Locale.ROOT))) {
                throw bad(ARCHIVE + " with distinct entry names", "entry '" + name + "' twice (entries " + i + " and an "
                        + "earlier one, names compared ignoring case)");
            }
            entries.add(entry(p, name, p + 46 + nameLen, extraLen, cdOffset));
            p = next;
        }
        return entries;
    }

    /** A zip64 value where the 32-bit one says "see zip64", else the 32-bit one, which must agree. */
    private long zip64(long small, long sentinel, long big, String what) throws CheckpointException {
        if (small != sentinel && small != big) {
            throw bad(ARCHIVE, "zip and zip64 end records disagreeing on the " + what + " (" + small + " and "
                    + Long.toUnsignedString(big) + ")");
        }
        return big;
    }

    private Entry entry(long p, String name, long extra, int extraLen, long dataLimit) throws CheckpointException {
        int flags = u16(p + 8);
        int method = u16(p + 10);
        long csize = u32(p + 20);
        long usize = u32(p + 24);
        long local = u32(p + 42);
        // The zip64 extra field holds, in this order, the 8-byte values whose 32-bit fields are all ones.
        for (long q = extra; q + 4 <= extra + extraLen; q += 4 + u16(q + 2)) {
            if (u16(q) == 1) {
                long v = q + 4;
                long limit = Math.min(v + u16(q + 2), extra + extraLen);
                if (usize == 0xFFFFFFFFL && v + 8 <= limit) {
                    usize = i64(v);
                    v += 8;
                }
                if (csize == 0xFFFFFFFFL && v + 8 <= limit) {
                    csize = i64(v);
                    v += 8;
                }
                if (local == 0xFFFFFFFFL && v + 8 <= limit) {
                    local = i64(v);
                }
                break;
            }
        }
        if ((flags & 1) != 0) {
            throw bad(ARCHIVE, "entry '" + name + "' encrypted");
        }
        if (method != 0) {
            throw bad(ARCHIVE + " (its entries are stored uncompressed)", "entry '" + name + "' compressed with zip method " + method);
        }
        if (csize != usize) {
            throw bad(ARCHIVE, "stored entry '" + name + "' with sizes " + Long.toUnsignedString(csize) + " and "
                    + Long.toUnsignedString(usize));
        }
        if (local < 0 || local > b.byteSize() - 30 || i32(local) != LOCAL) {
            throw bad(ARCHIVE, "entry '" + name + "' with no local header at offset " + Long.toUnsignedString(local));
        }
        long data = local + 30 + u16(local + 26) + u16(local + 28);
        if (csize < 0 || data > dataLimit || csize > dataLimit - data) {
            throw bad(ARCHIVE, "entry '" + name + "' of " + Long.toUnsignedString(csize) + " bytes at offset " + data
                    + ", beyond the " + dataLimit + " bytes before the central directory");
        }
        return new Entry(name, data, csize);
    }

    private int u8(long p) {
        return b.get(ValueLayout.JAVA_BYTE, p) & 0xFF;
    }

    private int u16(long p) {
        return u8(p) | u8(p + 1) << 8;
    }

    private int i32(long p) {
        return u16(p) | u16(p + 2) << 16;
    }

    private long u32(long p) {
        return i32(p) & 0xFFFFFFFFL;
    }

    private long i64(long p) {
        return u32(p) | u32(p + 4) << 32;
    }
}
