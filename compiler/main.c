/*
 * main.c — trigc, the trig compiler's driver.
 *
 *   trigc build FILE... [-o OUT] [--emit-c DIR] [--cc CC] [--cflags "..."]
 *   trigc lint FILE... [--format text|json|sarif] [--werror]
 *   trigc fmt FILE [--to trig|yaml] [--check] [-w]
 *
 * The phases: load every file, parse each with its front end (.trig or
 * .yaml/.yml), decode the trees into one project, check it; build then
 * lowers it, emits C and runs cc.  Diagnostics of a phase are all reported
 * before stopping; nothing is written when there are errors.
 *
 * Exit status: 0 success; 1 the definitions have errors (or warnings under
 * --werror, or fmt --check found a difference); 2 usage; 3 the environment
 * failed (cannot write the output, cc failed, runtime not found).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "arena.h"
#include "ast.h"
#include "cc.h"
#include "check.h"
#include "decode.h"
#include "dfa.h"
#include "diag.h"
#include "emit.h"
#include "frontend.h"
#include "ir.h"

enum { EXIT_DEFS = 1, EXIT_USAGE = 2, EXIT_ENV = 3 };

static const char *prog = "trigc";

static void usage_main(FILE *f)
{
	fprintf(f,
		"usage: trigc <command> [options] FILE...\n"
		"\n"
		"Compile trigger definitions (.trig or YAML) into one executable per project.\n"
		"\n"
		"commands:\n"
		"  build    check the definitions and build the project's program\n"
		"  lint     check the definitions and report every problem\n"
		"  fmt      print definitions in canonical .trig or YAML form\n"
		"  version  print trigc's version\n"
		"  help     show the help of a command (trigc help build)\n"
		"\n"
		"The files given together form one project.  See trigc(1) and trig(5).\n");
}

static void usage_build(FILE *f)
{
	fprintf(f,
		"usage: trigc build FILE... [-o OUT] [--emit-c DIR] [--cc CC] [--cflags FLAGS]\n"
		"\n"
		"Check the definitions, generate C and compile it with the trig runtime into\n"
		"one executable.\n"
		"\n"
		"  -o, --output OUT   the program to write (default: the project's name)\n"
		"      --emit-c DIR   keep the generated C as DIR/PROJECT.c\n"
		"      --cc CC        the C compiler (default: $CC, else cc)\n"
		"      --cflags FLAGS extra compiler flags, separated by blanks\n"
		"      --no-line      no #line directives or source names in the C\n"
		"  -v, --verbose      print the compiler's command line\n"
		"  -h, --help         show this help\n");
}

static void usage_lint(FILE *f)
{
	fprintf(f,
		"usage: trigc lint FILE... [--format text|json|sarif] [--werror]\n"
		"\n"
		"Check the definitions and report every problem found, gcc-style.\n"
		"Exit status: 0 clean, 1 errors (or warnings with --werror), 2 usage.\n"
		"\n"
		"      --format FMT   text (default), json or sarif, on stdout for json and sarif\n"
		"      --werror       treat warnings as errors\n"
		"  -h, --help         show this help\n");
}

static void usage_fmt(FILE *f)
{
	fprintf(f,
		"usage: trigc fmt FILE [--to trig|yaml] [--check | -w]\n"
		"\n"
		"Print FILE in canonical form, converting between .trig and YAML with --to.\n"
		"Comments are not kept.\n"
		"\n"
		"      --to LANG      trig or yaml (default: the language of FILE)\n"
		"      --from LANG    the language of FILE when its name does not say (stdin: -)\n"
		"      --check        print nothing; exit 1 when FILE is not in canonical form\n"
		"  -w, --write        rewrite FILE in place (same language only)\n"
		"  -h, --help         show this help\n");
}

static bool use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	return isatty(fileno(f)) && !(nc && *nc) && term && strcmp(term, "dumb") != 0;
}

/* ------------------------------------------------------------ loading */

enum lang { LANG_NONE, LANG_TRIG, LANG_YAML };

static enum lang lang_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot || strchr(dot, '/'))
		return LANG_NONE;
	if (strcmp(dot, ".trig") == 0)
		return LANG_TRIG;
	if (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0)
		return LANG_YAML;
	return LANG_NONE;
}

static enum lang lang_named(const char *s)
{
	if (strcmp(s, "trig") == 0)
		return LANG_TRIG;
	if (strcmp(s, "yaml") == 0 || strcmp(s, "yml") == 0)
		return LANG_YAML;
	return LANG_NONE;
}

struct unit {
	bool usage;                     /* a file could not be read or named no language */
	struct arena arena;
	struct sources src;
	struct diag diag;
	struct tree **roots;
	uint32_t *files;
	size_t n;
	struct ast_project ast;
};

static void unit_init(struct unit *u)
{
	memset(u, 0, sizeof(*u));
	sources_init(&u->src);
	diag_init(&u->diag, &u->src);
}

static void unit_release(struct unit *u)
{
	diag_release(&u->diag);
	sources_release(&u->src);
	arena_free(&u->arena);
	free(u->roots);
	free(u->files);
}

/* Loads and parses every file; FORCE overrides the language of all. */
static void unit_parse(struct unit *u, char **paths, size_t n, enum lang force)
{
	u->roots = calloc(n ? n : 1, sizeof(*u->roots));
	u->files = calloc(n ? n : 1, sizeof(*u->files));
	if (!u->roots || !u->files) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EXIT_ENV);
	}
	for (size_t i = 0; i < n; i++) {
		struct loc none = { 0, 0, 0, 0 };
		enum lang lang = force ? force : lang_of(paths[i]);
		if (!lang) {
			diag_error(&u->diag, none, "usage",
				   "'%s' is neither a .trig nor a .yaml/.yml file", paths[i]);
			u->usage = true;
			continue;
		}
		uint32_t file = sources_load(&u->src, paths[i]);
		if (!file) {
			diag_error(&u->diag, none, "usage", "cannot read '%s': %s", paths[i],
				   strerror(errno));
			u->usage = true;
			continue;
		}
		struct tree *root = lang == LANG_TRIG ? dsl_parse(&u->arena, &u->diag, &u->src, file)
						      : yaml_parse(&u->arena, &u->diag, &u->src, file);
		if (root) {
			u->roots[u->n] = root;
			u->files[u->n] = file;
			u->n++;
		}
	}
}

/* Parse, decode and check.  Returns the number of errors. */
static unsigned unit_check(struct unit *u, char **paths, size_t n)
{
	unit_parse(u, paths, n, LANG_NONE);
	if (diag_errors(&u->diag))
		return diag_errors(&u->diag);
	if (decode_project(&u->arena, &u->diag, &u->src, u->roots, u->files, u->n, true, &u->ast))
		return diag_errors(&u->diag);
	check_project(&u->arena, &u->diag, &u->src, &u->ast);
	return diag_errors(&u->diag);
}

/* ------------------------------------------------------------ lint */

static int cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "werror", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	enum diag_format format = DIAG_TEXT;
	bool werror = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "text"))
				format = DIAG_TEXT;
			else if (!strcmp(optarg, "json"))
				format = DIAG_JSON;
			else if (!strcmp(optarg, "sarif"))
				format = DIAG_SARIF;
			else {
				fprintf(stderr, "%s lint: unknown format '%s'; expected text, json or sarif\n",
					prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'W':
			werror = true;
			break;
		case 'h':
			usage_lint(stdout);
			return 0;
		default:
			usage_lint(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s lint: no files given\n", prog);
		usage_lint(stderr);
		return EXIT_USAGE;
	}
	struct unit u;
	unit_init(&u);
	unit_check(&u, argv + optind, (size_t)(argc - optind));
	if (werror)
		diag_promote_warnings(&u.diag);
	if (format == DIAG_TEXT)
		diag_print(&u.diag, stderr, DIAG_TEXT, use_color(stderr));
	else
		diag_print(&u.diag, stdout, format, false);
	int rc = u.usage ? EXIT_USAGE : diag_errors(&u.diag) ? EXIT_DEFS : 0;
	unit_release(&u);
	return rc;
}

/* ------------------------------------------------------------ build */

/* The definitions' hash: SHA-256 of the generated tables without source
 * positions or local paths, so the same definitions in .trig or YAML, in
 * any folder, hash alike.  16 hex digits are plenty to tell versions apart. */
static int defs_hash(struct arena *a, const struct ir_project *ir, char **out)
{
	struct ir_project copy = *ir;
	copy.p.defs_hash = "";
	copy.p.backend.workdir = NULL;
	copy.p.backend.repository = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem)
		return -1;
	struct emit_options opt = { false, "" };
	int rc = emit_c(mem, &copy, &opt);
	if (fclose(mem) != 0 || rc != 0) {
		free(text);
		return -1;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL)) {
		free(text);
		return -1;
	}
	free(text);
	char *hex = arena_alloc(a, 17);
	for (int i = 0; i < 8; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	*out = hex;
	return 0;
}

static void progress(const char *fmt, const char *arg)
{
	if (!isatty(2))
		return;
	fprintf(stderr, fmt, arg);
	fflush(stderr);
}

static int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "emit-c", required_argument, NULL, 'E' },
		{ "cc", required_argument, NULL, 'C' },
		{ "cflags", required_argument, NULL, 'F' },
		{ "no-line", no_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *output = NULL, *emit_dir = NULL, *cc = NULL, *cflags = NULL;
	bool lines = true, verbose = false;
	int c;
	while ((c = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'E': emit_dir = optarg; break;
		case 'C': cc = optarg; break;
		case 'F': cflags = optarg; break;
		case 'L': lines = false; break;
		case 'v': verbose = true; break;
		case 'h':
			usage_build(stdout);
			return 0;
		default:
			usage_build(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s build: no files given\n", prog);
		usage_build(stderr);
		return EXIT_USAGE;
	}

	struct unit u;
	unit_init(&u);
	int rc = EXIT_DEFS;
	char *tmpdir = NULL, *c_path = NULL;
	unit_check(&u, argv + optind, (size_t)(argc - optind));
	diag_print(&u.diag, stderr, DIAG_TEXT, use_color(stderr));
	if (u.usage)
		rc = EXIT_USAGE;
	if (diag_errors(&u.diag))
		goto out;

	rc = EXIT_ENV;
	char err[512];
	struct ir_project ir;
	char *hash = NULL;
	if (lower_project(&u.arena, &u.src, &u.ast, "", &ir, err, sizeof(err)) != 0 ||
	    dfa_generate(&u.arena, &ir, err, sizeof(err)) != 0 ||
	    defs_hash(&u.arena, &ir, &hash) != 0) {
		fprintf(stderr, "%s: error: %s\n", prog, *err ? err : "cannot hash the definitions");
		goto out;
	}
	ir.p.defs_hash = hash;

	struct cc_runtime rt;
	if (cc_find_runtime(&rt, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: error: %s\n", prog, err);
		goto out;
	}
	const char *name = ir.p.name;
	if (!output)
		output = name;
	char *c_name = arena_printf(&u.arena, "%s.c", name);
	if (emit_dir) {
		if (mkdir(emit_dir, 0777) != 0 && errno != EEXIST) {
			fprintf(stderr, "%s: error: cannot create '%s': %s\n", prog, emit_dir, strerror(errno));
			goto out;
		}
		c_path = arena_printf(&u.arena, "%s/%s", emit_dir, c_name);
	} else {
		const char *t = getenv("TMPDIR");
		tmpdir = arena_printf(&u.arena, "%s/trigc-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpdir)) {
			fprintf(stderr, "%s: error: cannot create a temporary folder: %s\n", prog,
				strerror(errno));
			tmpdir = NULL;
			goto out;
		}
		c_path = arena_printf(&u.arena, "%s/%s", tmpdir, c_name);
	}

	progress("trigc: generating %s\n", c_name);
	FILE *f = fopen(c_path, "w");
	struct emit_options opt = { lines, c_name };
	if (!f || emit_c(f, &ir, &opt) != 0 || fclose(f) != 0) {
		fprintf(stderr, "%s: error: cannot write '%s': %s\n", prog, c_path, strerror(errno));
		goto out;
	}
	progress("trigc: compiling %s\n", output);
	struct cc_job job = { cc, cflags, c_path, output, verbose };
	if (cc_build(&rt, &job, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: error: %s\n", prog, err);
		goto out;
	}
	rc = 0;
out:
	if (tmpdir && c_path) {
		unlink(c_path);
		rmdir(tmpdir);
	}
	unit_release(&u);
	return rc;
}

/* ------------------------------------------------------------ fmt */

static int cmd_fmt(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'c' },
		{ "write", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	enum lang to = LANG_NONE, from = LANG_NONE;
	bool check = false, write = false;
	int c;
	while ((c = getopt_long(argc, argv, "wh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
		case 'f':
			if (!lang_named(optarg)) {
				fprintf(stderr, "%s fmt: unknown language '%s'; expected trig or yaml\n",
					prog, optarg);
				return EXIT_USAGE;
			}
			*(c == 't' ? &to : &from) = lang_named(optarg);
			break;
		case 'c': check = true; break;
		case 'w': write = true; break;
		case 'h':
			usage_fmt(stdout);
			return 0;
		default:
			usage_fmt(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "%s fmt: expected one file\n", prog);
		usage_fmt(stderr);
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	enum lang in = from ? from : lang_of(path);
	if (!in) {
		fprintf(stderr, "%s fmt: cannot tell the language of '%s'; name it with --from trig|yaml\n",
			prog, path);
		return EXIT_USAGE;
	}
	if (!to)
		to = in;
	if (write && (to != in || !strcmp(path, "-"))) {
		fprintf(stderr, "%s fmt: -w rewrites a file in its own language\n", prog);
		return EXIT_USAGE;
	}
	if (check && write) {
		fprintf(stderr, "%s fmt: --check and -w do not go together\n", prog);
		return EXIT_USAGE;
	}

	struct unit u;
	unit_init(&u);
	int rc = EXIT_DEFS;
	unit_parse(&u, argv + optind, 1, from);
	if (!diag_errors(&u.diag))
		decode_project(&u.arena, &u.diag, &u.src, u.roots, u.files, u.n, false, &u.ast);
	if (diag_errors(&u.diag)) {
		diag_print(&u.diag, stderr, DIAG_TEXT, use_color(stderr));
		if (u.usage)
			rc = EXIT_USAGE;
		goto out;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem) {
		rc = EXIT_ENV;
		goto out;
	}
	if (to == LANG_TRIG)
		fmt_trig(mem, u.roots[0]);
	else
		fmt_yaml(mem, u.roots[0]);
	fclose(mem);

	const struct source *src = sources_get(&u.src, u.files[0]);
	if (check) {
		rc = to == in && src->size == len && memcmp(src->text, text, len) == 0 ? 0 : EXIT_DEFS;
		if (rc)
			fprintf(stderr, "%s: not in canonical form (trigc fmt -w %s)\n", src->path, path);
	} else if (write) {
		rc = 0;
		if (src->size != len || memcmp(src->text, text, len) != 0) {
			char *tmp = arena_printf(&u.arena, "%s.fmt-XXXXXX", path);
			int fd = mkstemp(tmp);
			FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
			struct stat st;
			if (!f || fwrite(text, 1, len, f) != len || fflush(f) != 0 ||
			    (stat(path, &st) == 0 && fchmod(fd, st.st_mode & 07777) != 0) ||
			    fclose(f) != 0 || rename(tmp, path) != 0) {
				fprintf(stderr, "%s: error: cannot rewrite '%s': %s\n", prog, path,
					strerror(errno));
				if (fd >= 0)
					unlink(tmp);
				rc = EXIT_ENV;
			}
		}
	} else {
		rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : EXIT_ENV;
	}
	free(text);
out:
	unit_release(&u);
	return rc;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage_main(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("trigc %s\n", TRIGC_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help")) {
		const char *what = argc > 2 ? argv[2] : "";
		if (!strcmp(what, "build"))
			usage_build(stdout);
		else if (!strcmp(what, "lint"))
			usage_lint(stdout);
		else if (!strcmp(what, "fmt"))
			usage_fmt(stdout);
		else
			usage_main(stdout);
		return 0;
	}
	/* getopt sees "trigc build" as argv[0] "build". */
	argv[1] = argv[0];
	argc--;
	argv++;
	if (!strcmp(cmd, "build"))
		return cmd_build(argc, argv);
	if (!strcmp(cmd, "lint"))
		return cmd_lint(argc, argv);
	if (!strcmp(cmd, "fmt"))
		return cmd_fmt(argc, argv);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
	usage_main(stderr);
	return EXIT_USAGE;
}
