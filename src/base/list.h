/* list.h: an intrusive, circular, doubly linked list with a count.
 *
 * Embed a `struct list_node` in the element, keep a `struct list` where the
 * elements are owned, and get the element back with list_entry(). Adding and
 * removing are O(1); a node knows whether it is linked, so removing twice is
 * harmless. Nothing is allocated. */
#ifndef MLD_LIST_H
#define MLD_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
    struct list_node *prev, *next; /* NULL, NULL when not linked */
};

struct list {
    struct list_node head; /* sentinel: head.next is the first element */
    unsigned count;
};

/* The element of type @type whose member @member is @node. */
#define list_entry(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

/* Iterates over the nodes of @l; the current node may be removed. */
#define list_for_each_safe(node, tmp, l)                                      \
    for ((node) = (l)->head.next, (tmp) = (node)->next; (node) != &(l)->head; \
         (node) = (tmp), (tmp) = (node)->next)

static inline void list_init(struct list *l)
{
    l->head.prev = l->head.next = &l->head;
    l->count = 0;
}

static inline bool list_empty(const struct list *l)
{
    return l->head.next == &l->head;
}

static inline bool list_linked(const struct list_node *n)
{
    return n->next != NULL;
}

/* The first node, or NULL when empty. */
static inline struct list_node *list_first(const struct list *l)
{
    return list_empty(l) ? NULL : l->head.next;
}

/* The last node, or NULL when empty. */
static inline struct list_node *list_last(const struct list *l)
{
    return list_empty(l) ? NULL : l->head.prev;
}

static inline void list_insert_after(struct list *l, struct list_node *at, struct list_node *n)
{
    n->prev = at;
    n->next = at->next;
    at->next->prev = n;
    at->next = n;
    l->count++;
}

/* Adds @n at the front. */
static inline void list_push_front(struct list *l, struct list_node *n)
{
    list_insert_after(l, &l->head, n);
}

/* Adds @n at the back. */
static inline void list_push_back(struct list *l, struct list_node *n)
{
    list_insert_after(l, l->head.prev, n);
}

/* Unlinks @n from @l; nothing when it is not linked. */
static inline void list_remove(struct list *l, struct list_node *n)
{
    if (!list_linked(n))
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
    l->count--;
}

#endif
