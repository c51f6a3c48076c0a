/*
 * cc.h — finding the runtime and running the C compiler.
 *
 * trigc links generated C with libtrig.a and compiles against trig.h.  It
 * finds both, in this order: under $TRIG_RUNTIME_DIR (include/trig.h and
 * lib/libtrig.a), or next to its own executable (BINDIR/../include and
 * BINDIR/../lib: the build tree and `make install PREFIX=...` have that
 * layout).  The compiler is --cc, else $CC, else cc; it is run directly
 * (posix_spawnp, never through a shell), its output passed through.
 */
#ifndef TRIGC_CC_H
#define TRIGC_CC_H

#include <stdbool.h>
#include <stddef.h>

struct cc_runtime {
	char include_dir[4096];
	char lib[4096];                 /* path of libtrig.a */
};

int cc_find_runtime(struct cc_runtime *rt, char *err, size_t errlen);

struct cc_job {
	const char *cc;                 /* NULL: $CC or cc */
	const char *cflags;             /* extra flags, split on blanks; may be NULL */
	const char *c_file;
	const char *output;
	bool verbose;                   /* print the command line on stderr */
};

/* Compiles and links; returns 0, or -1 with a message in ERR (the
 * compiler's own diagnostics have gone to stderr). */
int cc_build(const struct cc_runtime *rt, const struct cc_job *job, char *err, size_t errlen);

/* Runs ARGV (argv[0] looked up in PATH, no shell) and waits: 0 when it
 * exits 0, else -1 with a message. */
int cc_spawn(char *const argv[], char *err, size_t errlen);

#endif
