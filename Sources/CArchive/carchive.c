// libarchive shim: the only code that calls libarchive.
#include "carchive.h"
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ca_reader { struct archive *a; };

static void set_err(char *err, size_t cap, const char *msg) {
    if (err && cap) snprintf(err, cap, "%s", msg ? msg : "unknown error");
}

int ca_open(const char *path, ca_reader **out, char *err, size_t errcap) {
    *out = NULL;
    struct archive *a = archive_read_new();
    if (!a) { set_err(err, errcap, "cannot allocate an archive reader"); return CA_ERROR; }
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        set_err(err, errcap, archive_error_string(a));
        archive_read_free(a);
        return CA_ERROR;
    }
    ca_reader *r = malloc(sizeof *r);
    if (!r) { archive_read_free(a); set_err(err, errcap, "out of memory"); return CA_ERROR; }
    r->a = a;
    *out = r;
    return CA_OK;
}

int ca_next(ca_reader *r, const char **name, int *is_file, int64_t *size, char *err, size_t errcap) {
    struct archive_entry *e = NULL;
    int rc = archive_read_next_header(r->a, &e);
    if (rc == ARCHIVE_EOF) return CA_END;
    if (rc < ARCHIVE_WARN || !e) { set_err(err, errcap, archive_error_string(r->a)); return CA_ERROR; }
    *name = archive_entry_pathname(e);
    if (!*name) *name = "";
    *is_file = archive_entry_filetype(e) == AE_IFREG;
    *size = archive_entry_size_is_set(e) ? (int64_t)archive_entry_size(e) : -1;
    return CA_OK;
}

int ca_read(ca_reader *r, uint8_t **data, size_t *len, size_t limit, char *err, size_t errcap) {
    *data = NULL;
    *len = 0;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) { set_err(err, errcap, "out of memory"); return CA_ERROR; }
    for (;;) {
        if (n == cap) {
            if (cap >= limit) { free(buf); set_err(err, errcap, "member larger than the limit"); return CA_ERROR; }
            size_t next = cap * 2 > limit ? limit : cap * 2;
            uint8_t *grown = realloc(buf, next);
            if (!grown) { free(buf); set_err(err, errcap, "out of memory"); return CA_ERROR; }
            buf = grown;
            cap = next;
        }
        la_ssize_t k = archive_read_data(r->a, buf + n, cap - n);
        if (k < 0) { free(buf); set_err(err, errcap, archive_error_string(r->a)); return CA_ERROR; }
        if (k == 0) break;
        n += (size_t)k;
    }
    *data = buf;
    *len = n;
    return CA_OK;
}

void ca_free(void *p) { free(p); }

void ca_close(ca_reader *r) {
    if (!r) return;
    archive_read_free(r->a);
    free(r);
}
