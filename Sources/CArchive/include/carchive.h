/* Plain C interface over libarchive for reading archives (zip, zip64, tar, tar.gz/tgz, ...) member by member.
 * Only DicomPrepCore/Input/ArchiveReader.swift calls these functions. */
#ifndef CARCHIVE_H
#define CARCHIVE_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

enum { CA_OK = 0, CA_END = 1, CA_ERROR = 2 };

typedef struct ca_reader ca_reader;

/* Opens an archive file of any format and compression libarchive knows (not "raw": a plain file is refused). */
int ca_open(const char *path, ca_reader **out, char *err, size_t errcap);
/* The next member: its name, whether it is a regular file, and its declared size (-1 when unknown).
 * CA_END after the last one. The name stays valid until the next call. */
int ca_next(ca_reader *r, const char **name, int *is_file, int64_t *size, char *err, size_t errcap);
/* Reads the current member's data; *data (malloc'ed, free with ca_free) and *len on success. */
int ca_read(ca_reader *r, uint8_t **data, size_t *len, size_t limit, char *err, size_t errcap);
void ca_free(void *p);
void ca_close(ca_reader *r);

#ifdef __cplusplus
}
#endif
#endif
