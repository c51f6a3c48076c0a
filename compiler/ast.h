/*
 * ast.h — the typed abstract syntax of a trig project.
 *
 * decode.c builds it from the document trees of all definition files of one
 * project (the front ends' output, tree.h), through the schema tables that
 * give every key its type; check.c reads it and reports; lower.c turns it
 * into the IR.  Every value keeps the position it was written at, so any
 * phase can point at it.  A value whose `set` is false (or whose string is
 * NULL) was not written.
 *
 * Everything lives in the arena the decoder was given.
 */
#ifndef TRIGC_AST_H
#define TRIGC_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"
#include "tree.h"

struct ast_str {
	const char *s;                  /* NULL: absent */
	struct loc loc;
	const struct tree *node;        /* the scalar, for positions inside it */
};

struct ast_int {
	int64_t v;
	struct loc loc;
	bool set;
};

struct ast_bool {
	bool v;
	struct loc loc;
	bool set;
};

/* A duration in milliseconds, or a size in bytes. */
struct ast_dur {
	int64_t v;
	struct loc loc;
	bool set;
};

/* A value of a closed set of words (catch-up, encoding, ...): v indexes
 * the schema's word list. */
struct ast_enum {
	int v;
	struct loc loc;
	bool set;
};

struct ast_strs {
	struct ast_str *v;
	size_t n;
	struct loc loc;
	bool set;
};

enum ast_secret_kind {
	AST_SECRET_NONE, AST_SECRET_ENV, AST_SECRET_FILE, AST_SECRET_JWKS_FILE,
	AST_SECRET_JWKS_URL,
	AST_SECRET_LITERAL,     /* written in the definitions: a lint error */
};

struct ast_secret {
	enum ast_secret_kind kind;
	struct ast_str ref;
	struct loc loc;
};

/* NAME: VALUE pairs (parameters, inputs, environment, headers, claims);
 * an input's value may be a list. */
struct ast_binding {
	struct ast_str name;
	struct ast_strs values;         /* one value unless a list was written */
};

struct ast_bindings {
	struct ast_binding *v;
	size_t n;
	struct loc loc;
	bool set;
};

/* ------------------------------------------------------------ project */

enum { AST_BACKEND_LOCAL, AST_BACKEND_VALOHAI };

struct ast_backend {
	struct loc loc;
	struct ast_enum kind;
	struct ast_str workdir, repository;
	struct ast_int max_parallel;
	struct ast_str url;
	struct ast_secret token;
	struct ast_str project_id;
};

enum { AST_PARAM_STRING, AST_PARAM_INTEGER, AST_PARAM_FLOAT, AST_PARAM_FLAG };

struct ast_param {
	struct loc loc;
	struct ast_str name;
	struct ast_enum type;
	struct ast_str default_value;
	struct ast_str description;
	struct ast_bool optional;
	struct ast_str pass_as;
};

struct ast_input {
	struct loc loc;
	struct ast_str name;
	struct ast_strs defaults;
	struct ast_str description;
	struct ast_bool optional;
};

struct ast_envvar {
	struct loc loc;
	struct ast_str name;
	struct ast_str default_value;
	struct ast_str description;
	struct ast_bool optional;
};

struct ast_step {
	struct loc loc;
	struct ast_str name;
	struct ast_strs command;
	struct ast_str image, description;
	struct ast_param *params;
	size_t nparams;
	struct ast_input *inputs;
	size_t ninputs;
	struct ast_envvar *env;
	size_t nenv;
	bool imported;                  /* from a valohai.yaml */
};

struct ast_node {
	struct loc loc;
	struct ast_str name, step, type;
};

struct ast_edge {
	struct loc loc;
	struct ast_str from, to;
};

struct ast_pipeline {
	struct loc loc;
	struct ast_str name;
	struct ast_node *nodes;
	size_t nnodes;
	struct ast_edge *edges;
	size_t nedges;
	bool imported;
};

/* ------------------------------------------------------------ triggers */

enum { AST_CATCH_UP_NONE, AST_CATCH_UP_ONCE };
enum { AST_OVERLAP_ALLOW, AST_OVERLAP_SKIP };

struct ast_monthly {
	struct loc loc;
	bool set;
	struct ast_int day;
	struct ast_str at;
};

struct ast_schedule {
	struct loc loc;
	struct ast_str cron, daily, weekdays;
	struct ast_dur every;
	struct ast_monthly monthly;
	struct ast_str timezone;
	struct ast_enum catch_up, overlap;
};

struct ast_webhook {
	struct loc loc;
	struct ast_str path;
	struct ast_strs methods;
	struct ast_dur max_body;
	struct ast_int not_matched_status, rejected_status;
};

struct ast_notification {
	struct loc loc;
	struct ast_str event;
};

enum ast_cond_kind {
	AST_COND_TOKEN, AST_COND_HMAC, AST_COND_JWT, AST_COND_TIMESTAMP,
	AST_COND_REPLAY, AST_COND_IP_ALLOW, AST_COND_FILTER, AST_COND_ANY,
	AST_COND_ALL, AST_COND_NOT, AST_COND_RATE_LIMIT,
};

/* Filter operators, in the order of their keys in the schema. */
enum ast_filter_op {
	AST_OP_EQUALS, AST_OP_NOT_EQUALS, AST_OP_IN, AST_OP_NOT_IN, AST_OP_MATCHES,
	AST_OP_GLOB, AST_OP_EXISTS, AST_OP_GREATER, AST_OP_LESS, AST_OP_CONTAINS,
};

/* hmac presets, in schema order; AST_PRESET_NONE when not written */
enum {
	AST_PRESET_GITHUB, AST_PRESET_GITLAB, AST_PRESET_SLACK, AST_PRESET_STRIPE,
	AST_PRESET_STANDARD_WEBHOOKS, AST_PRESET_SHOPIFY, AST_PRESET_TWILIO,
};
enum { AST_ALG_SHA1, AST_ALG_SHA256, AST_ALG_SHA512 };
enum { AST_ENC_RAW, AST_ENC_HEX, AST_ENC_BASE64 };        /* secret-encoding */
enum { AST_SIGENC_HEX, AST_SIGENC_BASE64 };               /* signature encoding */
enum { AST_TIME_UNIX, AST_TIME_UNIX_MS, AST_TIME_RFC3339 };

struct ast_cond {
	enum ast_cond_kind kind;
	struct loc loc;                 /* the condition's key */
	const struct tree *node;        /* its value, for messages */
	/* token, hmac, jwt */
	struct ast_secret secret;       /* token, hmac: secret; jwt: key */
	struct ast_str header, query;
	struct ast_bool bearer;
	struct ast_enum preset, algorithm, secret_encoding, encoding;
	struct ast_str prefix, message;
	struct ast_strs algorithms, audience;
	struct ast_str issuer;
	struct ast_dur leeway;
	struct ast_bindings claims;
	/* timestamp */
	struct ast_enum from, format;
	struct ast_dur tolerance;
	/* replay */
	struct ast_str id;
	struct ast_dur window;
	/* ip-allow */
	struct ast_strs cidrs;
	/* filter */
	struct ast_str field;
	enum ast_filter_op op;
	struct loc op_loc;
	struct ast_str value;           /* equals ... contains */
	struct ast_strs values;         /* in, not-in */
	struct ast_bool exists;
	/* any, all, not */
	struct ast_cond *children;
	size_t nchildren;
	/* rate-limit */
	struct ast_int max;
	struct ast_dur per;
	struct ast_str key;
};

enum ast_action_kind {
	AST_ACT_RUN_EXECUTION, AST_ACT_RUN_PIPELINE, AST_ACT_COPY_PIPELINE,
	AST_ACT_FETCH_REPOSITORY, AST_ACT_HTTP, AST_ACT_RESPOND,
};

struct ast_action {
	enum ast_action_kind kind;
	struct loc loc;                 /* the action's key */
	struct ast_str step, pipeline;
	struct ast_str commit, title, source, payload_input;
	struct ast_bindings parameters, inputs, environment, headers;
	struct ast_str method, url, body, content_type;
	struct ast_int expect, status;
	struct ast_str name;            /* written; see ast_action_name() */
	struct ast_dur timeout;
};

enum ast_trigger_kind { AST_TRIGGER_NONE, AST_SCHEDULE, AST_WEBHOOK, AST_NOTIFICATION };

enum { AST_BUSY_QUEUE, AST_BUSY_SKIP };

struct ast_trigger {
	struct loc loc;                 /* the list item */
	struct ast_str name;
	struct ast_bool enabled;
	struct ast_str description;
	enum ast_trigger_kind kind;
	struct ast_schedule *schedule;
	struct ast_webhook *webhook;
	struct ast_notification *notification;
	struct ast_cond *conds;
	size_t nconds;
	struct ast_action *actions;
	size_t nactions;
	struct ast_int max_concurrent;
	struct ast_enum when_busy;
};

struct ast_project {
	struct ast_str name;
	struct ast_backend *backend;
	struct ast_strs imports;
	uint32_t main_file;             /* the file that holds `project` */
	struct ast_step *steps;
	size_t nsteps, capsteps;
	struct ast_pipeline *pipelines;
	size_t npipelines, cappipelines;
	struct ast_trigger *triggers;
	size_t ntriggers, captriggers;
};

/* The words of each closed set, indexed by the enums above; NULL-ended. */
extern const char *const ast_catch_up_words[];
extern const char *const ast_overlap_words[];
extern const char *const ast_backend_words[];
extern const char *const ast_param_type_words[];
extern const char *const ast_preset_words[];
extern const char *const ast_filter_op_words[];
extern const char *const ast_cond_words[];
extern const char *const ast_action_words[];
extern const char *const ast_when_busy_words[];

/* The name templates read an action's results by (actions.NAME.FIELD):
 * its `name:`, else its step (run-execution), its pipeline (run-pipeline,
 * copy-pipeline) or its kind word (http, fetch-repository, respond).
 * NULL only when the action lacks the step or pipeline it names. */
const char *ast_action_name(const struct ast_action *a);

#endif
