/* scrape.c -- see scrape.h. */
#include "scrape.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

/* Waits for fd to be ready for events until deadline; false on timeout. */
static int ready(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - jr_clock_mono_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, (int)left);
        if (n > 0) {
            return 1;
        }
        if (n < 0 && errno != EINTR) {
            return 0;
        }
    }
}

int jr_scrape_get(const char *host_port, char *out, size_t max, int timeout_ms)
{
    char host[64];
    unsigned port = 0;
    if (max < 2 || sscanf(host_port, "%63[^:]:%u", host, &port) != 2 || port == 0 || port > 65535) {
        return -1;
    }
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    struct sockaddr *addr = (struct sockaddr *)&a4;
    socklen_t alen = sizeof a4;
    if (inet_pton(AF_INET, host, &a4.sin_addr) != 1) {
        if (inet_pton(AF_INET6, host, &a6.sin6_addr) != 1) {
            return -1;
        }
        addr = (struct sockaddr *)&a6;
        alen = sizeof a6;
    }
    int64_t deadline = jr_clock_mono_ms() + timeout_ms;
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int len = -1;
    size_t got = 0;
    static const char request[] = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if ((connect(fd, addr, alen) == 0 || (errno == EINPROGRESS && ready(fd, POLLOUT, deadline))) &&
        ready(fd, POLLOUT, deadline) &&
        send(fd, request, sizeof request - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof request - 1)) {
        for (;;) {
            if (got == max - 1 || !ready(fd, POLLIN, deadline)) {
                got = 0; /* too large or too slow: nothing */
                break;
            }
            ssize_t n = recv(fd, out + got, max - 1 - got, 0);
            if (n == 0) {
                break;
            }
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) {
                    continue;
                }
                got = 0;
                break;
            }
            got += (size_t)n;
        }
    }
    close(fd);
    out[got] = '\0';
    char *body = strstr(out, "\r\n\r\n");
    if (got > 0 && body != NULL &&
        (strncmp(out, "HTTP/1.1 200 ", 13) == 0 || strncmp(out, "HTTP/1.0 200 ", 13) == 0)) {
        body += 4;
        len = (int)(got - (size_t)(body - out));
        memmove(out, body, (size_t)len + 1);
    } else {
        out[0] = '\0';
    }
    return len;
}
