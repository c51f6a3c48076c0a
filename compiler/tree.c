/*
 * tree.c — constructors for the document tree.
 */
#include "tree.h"

#include <string.h>

struct tree *tree_scalar(struct arena *a, struct loc loc, const char *text, size_t len,
			 enum tree_style style)
{
	struct tree *t = arena_alloc(a, sizeof(*t));
	t->kind = TREE_SCALAR;
	t->loc = loc;
	t->u.scalar.text = arena_strndup(a, text, len);
	t->u.scalar.len = len;
	t->u.scalar.style = style;
	t->u.scalar.text_loc = loc;
	return t;
}

struct tree *tree_map(struct arena *a, struct loc loc)
{
	struct tree *t = arena_alloc(a, sizeof(*t));
	t->kind = TREE_MAP;
	t->loc = loc;
	return t;
}

struct tree *tree_list(struct arena *a, struct loc loc)
{
	struct tree *t = arena_alloc(a, sizeof(*t));
	t->kind = TREE_LIST;
	t->loc = loc;
	return t;
}

void tree_map_put(struct arena *a, struct tree *map, const char *key, struct loc key_loc,
		  struct tree *value)
{
	struct tree_entry *e = ARENA_PUSH(a, map->u.map.v, map->u.map.n, map->u.map.cap);
	e->key = arena_strdup(a, key);
	e->key_loc = key_loc;
	e->value = value;
}

void tree_list_push(struct arena *a, struct tree *list, struct tree *item)
{
	*ARENA_PUSH(a, list->u.list.v, list->u.list.n, list->u.list.cap) = item;
}

struct tree_entry *tree_map_find(const struct tree *map, const char *key)
{
	if (!map || map->kind != TREE_MAP)
		return NULL;
	for (size_t i = 0; i < map->u.map.n; i++)
		if (strcmp(map->u.map.v[i].key, key) == 0)
			return &map->u.map.v[i];
	return NULL;
}

struct tree *tree_map_get(const struct tree *map, const char *key)
{
	struct tree_entry *e = tree_map_find(map, key);
	return e ? e->value : NULL;
}

bool tree_is(const struct tree *t, const char *s)
{
	return t && t->kind == TREE_SCALAR && strcmp(t->u.scalar.text, s) == 0;
}
