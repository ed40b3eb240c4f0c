#include "cdeflate.h"
#include <libdeflate.h>
#include <zlib.h>

size_t cdf_gzip_bound(size_t n) {
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    if (!c) return n + n / 8 + 1024;
    size_t b = libdeflate_gzip_compress_bound(c, n);
    libdeflate_free_compressor(c);
    return b;
}

size_t cdf_gzip(const void *in, size_t n, int level, void *out, size_t cap) {
    if (level < 0) level = 0;
    if (level > 12) level = 12;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    if (!c) return 0;
    size_t r = libdeflate_gzip_compress(c, in, n, out, cap);
    libdeflate_free_compressor(c);
    return r;
}

long long cdf_gunzip_file(const char *path, void *out, size_t cap) {
    gzFile f = gzopen(path, "rb");
    if (!f) return -1;
    long long total = 0;
    while ((size_t)total < cap) {
        size_t want = cap - (size_t)total;
        if (want > (1u << 30)) want = 1u << 30;
        int k = gzread(f, (char *)out + total, (unsigned)want);
        if (k < 0) {
            gzclose(f);
            return -1;
        }
        if (k == 0) break;
        total += k;
    }
    gzclose(f);
    return total;
}

long long cdf_gunzip_buffer(const void *in, size_t n, void *out, size_t cap) {
    z_stream s = {0};
    if (inflateInit2(&s, 15 + 16) != Z_OK) return -1;
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    s.next_out = (Bytef *)out;
    s.avail_out = (uInt)cap;
    for (;;) {
        int rc = inflate(&s, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            if (s.avail_in == 0) break;
            if (inflateReset(&s) != Z_OK) { inflateEnd(&s); return -1; } /* next member */
            continue;
        }
        if (rc == Z_OK && s.avail_out == 0) { inflateEnd(&s); return -2; }
        if (rc != Z_OK) { inflateEnd(&s); return -1; }
        if (s.avail_in == 0) { inflateEnd(&s); return -1; } /* truncated */
    }
    long long total = (long long)(cap - s.avail_out);
    inflateEnd(&s);
    return total;
}
