// libarchive shim: the only code that calls libarchive.
// libarchive is opened at first use (dlopen), not linked: with the five of its dependencies nothing else
// needs (nettle, acl, zstd, lz4, bz2) it is six shared objects whose loading and relocation cost every run
// about 2 ms of start-up, though only archive input needs them.
#include "carchive.h"
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ca_reader { struct archive *a; };

static void set_err(char *err, size_t cap, const char *msg) {
    if (err && cap) snprintf(err, cap, "%s", msg ? msg : "unknown error");
}

static struct {
    struct archive *(*read_new)(void);
    int (*support_filter_all)(struct archive *);
    int (*support_format_all)(struct archive *);
    int (*open_filename)(struct archive *, const char *, size_t);
    const char *(*error_string)(struct archive *);
    int (*read_free)(struct archive *);
    int (*next_header)(struct archive *, struct archive_entry **);
    const char *(*entry_pathname)(struct archive_entry *);
    __LA_MODE_T (*entry_filetype)(struct archive_entry *);
    int (*entry_size_is_set)(struct archive_entry *);
    la_int64_t (*entry_size)(struct archive_entry *);
    la_ssize_t (*read_data)(struct archive *, void *, size_t);
} la;
static pthread_once_t la_once = PTHREAD_ONCE_INIT;
static char la_error[512];

static void la_load(void) {
    const char *names[] = {"libarchive.so.13", "libarchive.so"};
    void *h = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(la_error, sizeof la_error, "cannot open libarchive (install libarchive13): %s", dlerror());
        return;
    }
#define LA_SYM(field, name) \
    if (!(*(void **)&la.field = dlsym(h, name))) { snprintf(la_error, sizeof la_error, "libarchive has no %s", name); return; }
    LA_SYM(read_new, "archive_read_new")
    LA_SYM(support_filter_all, "archive_read_support_filter_all")
    LA_SYM(support_format_all, "archive_read_support_format_all")
    LA_SYM(open_filename, "archive_read_open_filename")
    LA_SYM(error_string, "archive_error_string")
    LA_SYM(read_free, "archive_read_free")
    LA_SYM(next_header, "archive_read_next_header")
    LA_SYM(entry_pathname, "archive_entry_pathname")
    LA_SYM(entry_filetype, "archive_entry_filetype")
    LA_SYM(entry_size_is_set, "archive_entry_size_is_set")
    LA_SYM(entry_size, "archive_entry_size")
    LA_SYM(read_data, "archive_read_data")
#undef LA_SYM
}

int ca_open(const char *path, ca_reader **out, char *err, size_t errcap) {
    *out = NULL;
    pthread_once(&la_once, la_load);
    if (la_error[0]) { set_err(err, errcap, la_error); return CA_ERROR; }
    struct archive *a = la.read_new();
    if (!a) { set_err(err, errcap, "cannot allocate an archive reader"); return CA_ERROR; }
    la.support_filter_all(a);
    la.support_format_all(a);
    if (la.open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        set_err(err, errcap, la.error_string(a));
        la.read_free(a);
        return CA_ERROR;
    }
    ca_reader *r = malloc(sizeof *r);
    if (!r) { la.read_free(a); set_err(err, errcap, "out of memory"); return CA_ERROR; }
    r->a = a;
    *out = r;
    return CA_OK;
}

int ca_next(ca_reader *r, const char **name, int *is_file, int64_t *size, char *err, size_t errcap) {
    struct archive_entry *e = NULL;
    int rc = la.next_header(r->a, &e);
    if (rc == ARCHIVE_EOF) return CA_END;
    if (rc < ARCHIVE_WARN || !e) { set_err(err, errcap, la.error_string(r->a)); return CA_ERROR; }
    *name = la.entry_pathname(e);
    if (!*name) *name = "";
    *is_file = la.entry_filetype(e) == AE_IFREG;
    *size = la.entry_size_is_set(e) ? (int64_t)la.entry_size(e) : -1;
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
        la_ssize_t k = la.read_data(r->a, buf + n, cap - n);
        if (k < 0) { free(buf); set_err(err, errcap, la.error_string(r->a)); return CA_ERROR; }
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
    la.read_free(r->a);
    free(r);
}
