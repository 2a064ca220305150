/* The domain does no I/O: it may not use ZeroMQ, PostgreSQL, libsodium or
 * the wire contract's generated code. This file stands before the real
 * postgresql/libpq-fe.h on the domain's include path so that including it there fails;
 * the edges (daemon/) translate between the domain's plain structs and the
 * world. */
#error "the domain does no I/O: postgresql/libpq-fe.h is for the edges (daemon/), not the rules (domain/)"
