/* The domain does no I/O: it may not use ZeroMQ, PostgreSQL, libsodium or
 * the wire contract's generated code. This file stands before the real
 * joinedreview/joinedreview.pb-c.h on the domain's include path so that including it there fails;
 * the edges (daemon/) translate between the domain's plain structs and the
 * world. */
#error "the domain does no I/O: joinedreview/joinedreview.pb-c.h is for the edges (daemon/), not the rules (domain/)"
