/*
 * fileio.h — writing files so that a crash leaves either the old or the
 * new content: the few file-system helpers the state folder, the journal,
 * the local backend and the pipeline runner share.
 *
 * Thread-safety: every function may be called from any thread;
 * trig_write_all() is also async-signal-safe (a forked child may call it).
 * Paths and buffers are borrowed for the call.
 */
#ifndef TRIG_FILEIO_H
#define TRIG_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/* Writes all N bytes of P to FD, through short writes and EINTR.  0, or
 * -1 with errno. */
int trig_write_all(int fd, const void *p, size_t n);

/* fsync() of the directory DIRFD, retried on EINTR.  0, or -1 with errno. */
int trig_fsync_dir(int dirfd);

/* Replaces DIRFD/NAME with DATA atomically: a temporary file of its own
 * (mode 0600, never following a link), renamed over NAME, so readers see
 * the old content or the new, never a part.  DURABLE: the file is
 * fsynced before the rename and the folder after it, so the new content
 * survives a crash of the machine.  0, or -1 with errno (the temporary
 * file removed). */
int trig_write_file_at(int dirfd, const char *name, const void *data, size_t len, bool durable);

/* mkdir -p, mode 0700 for each folder it creates; the parent of each new
 * folder is fsynced, so that the new entry survives a crash.  0, or -1
 * with errno. */
int trig_mkdir_p(const char *path);

#endif
