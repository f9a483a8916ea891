/*
 * arena.c - bump allocation for compiler data that lives as long as one
 * compilation.  Big requests get a block of their own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"

enum { BLOCK_SIZE = 64 * 1024 };

typedef struct Block {
	struct Block *next;
	size_t used, size;
	_Alignas(max_align_t) unsigned char data[];
} Block;

struct Arena {
	Block *head;
};

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "dlc: out of memory\n");
		exit(2);
	}
	return p;
}

Arena *
arena_new(void)
{
	Arena *a = xmalloc(sizeof *a);

	a->head = NULL;
	return a;
}

void *
arena_alloc(Arena *a, size_t size)
{
	size_t align = _Alignof(max_align_t);
	Block *b = a->head;

	size = (size + align - 1) / align * align;
	if (!b || b->size - b->used < size) {
		size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
		b = xmalloc(sizeof *b + cap);
		b->size = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *
arena_strdup(Arena *a, const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(arena_alloc(a, n), s, n);
}

void
arena_free(Arena *a)
{
	if (!a)
		return;
	for (Block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}
