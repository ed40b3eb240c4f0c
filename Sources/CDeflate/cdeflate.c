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
