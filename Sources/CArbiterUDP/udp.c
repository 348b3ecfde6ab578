#define _GNU_SOURCE
#include "CArbiterUDP.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/// Room for one SO_TIMESTAMPNS control message per datagram.
#define ARBITER_CONTROL_BYTES CMSG_SPACE(sizeof(struct timespec))

struct arbiter_udp_batch {
    int capacity;
    int buffer_bytes;
    int socket_family;
    struct mmsghdr *messages;
    struct iovec *vectors;
    struct sockaddr_storage *addresses;
    uint8_t *buffers;
    uint8_t *controls;
};

arbiter_udp_batch *arbiter_udp_batch_create(int capacity, int buffer_bytes, int address_family) {
    if (capacity <= 0 || buffer_bytes <= 0) return NULL;
    arbiter_udp_batch *batch = calloc(1, sizeof(*batch));
    if (!batch) return NULL;
    batch->capacity = capacity;
    batch->buffer_bytes = buffer_bytes;
    batch->socket_family = address_family == 6 ? AF_INET6 : AF_INET;
    batch->messages = calloc((size_t)capacity, sizeof(struct mmsghdr));
    batch->vectors = calloc((size_t)capacity, sizeof(struct iovec));
    batch->addresses = calloc((size_t)capacity, sizeof(struct sockaddr_storage));
    batch->buffers = calloc((size_t)capacity, (size_t)buffer_bytes);
    batch->controls = calloc((size_t)capacity, ARBITER_CONTROL_BYTES);
    if (!batch->messages || !batch->vectors || !batch->addresses || !batch->buffers || !batch->controls) {
        arbiter_udp_batch_destroy(batch);
        return NULL;
    }
    for (int i = 0; i < capacity; i++) {
        batch->vectors[i].iov_base = batch->buffers + (size_t)i * (size_t)buffer_bytes;
        batch->vectors[i].iov_len = (size_t)buffer_bytes;
        batch->messages[i].msg_hdr.msg_iov = &batch->vectors[i];
        batch->messages[i].msg_hdr.msg_iovlen = 1;
        batch->messages[i].msg_hdr.msg_name = &batch->addresses[i];
        batch->messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    return batch;
}

void arbiter_udp_batch_destroy(arbiter_udp_batch *batch) {
    if (!batch) return;
    free(batch->messages);
    free(batch->vectors);
    free(batch->addresses);
    free(batch->buffers);
    free(batch->controls);
    free(batch);
}

int arbiter_udp_batch_capacity(const arbiter_udp_batch *batch) { return batch->capacity; }
int arbiter_udp_batch_buffer_bytes(const arbiter_udp_batch *batch) { return batch->buffer_bytes; }

uint8_t *arbiter_udp_batch_buffer(arbiter_udp_batch *batch, int index) {
    return batch->buffers + (size_t)index * (size_t)batch->buffer_bytes;
}

int arbiter_udp_batch_length(const arbiter_udp_batch *batch, int index) {
    return (int)batch->messages[index].msg_len;
}

int64_t arbiter_udp_batch_received_at(const arbiter_udp_batch *batch, int index) {
    const struct msghdr *header = &batch->messages[index].msg_hdr;
    if (header->msg_controllen == 0) return 0;
    for (struct cmsghdr *message = CMSG_FIRSTHDR(header); message; message = CMSG_NXTHDR((struct msghdr *)header, message)) {
        if (message->cmsg_level == SOL_SOCKET && message->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec stamp;
            memcpy(&stamp, CMSG_DATA(message), sizeof(stamp));
            return (int64_t)stamp.tv_sec * 1000000000 + stamp.tv_nsec;
        }
    }
    return 0;
}

static void to_address(const struct sockaddr_storage *storage, arbiter_udp_address *out) {
    memset(out, 0, sizeof(*out));
    if (storage->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)storage;
        out->family = 4;
        memcpy(out->bytes, &sin->sin_addr, 4);
        out->port = ntohs(sin->sin_port);
    } else if (storage->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)storage;
        // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; report them as IPv4 so that
        // tokens naming an IPv4 address and replies to that peer both line up.
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            out->family = 4;
            memcpy(out->bytes, &sin6->sin6_addr.s6_addr[12], 4);
        } else {
            out->family = 6;
            memcpy(out->bytes, &sin6->sin6_addr, 16);
        }
        out->port = ntohs(sin6->sin6_port);
    }
}

static socklen_t from_address(const arbiter_udp_address *address, int socket_family, struct sockaddr_storage *out) {
    memset(out, 0, sizeof(*out));
    if (socket_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(address->port);
        if (address->family == 4) {
            sin6->sin6_addr.s6_addr[10] = 0xff;
            sin6->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&sin6->sin6_addr.s6_addr[12], address->bytes, 4);
        } else {
            memcpy(&sin6->sin6_addr, address->bytes, 16);
        }
        return sizeof(struct sockaddr_in6);
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(address->port);
    memcpy(&sin->sin_addr, address->bytes, 4);
    return sizeof(struct sockaddr_in);
}

void arbiter_udp_batch_address(const arbiter_udp_batch *batch, int index, arbiter_udp_address *out) {
    to_address(&batch->addresses[index], out);
}

void arbiter_udp_batch_prepare(arbiter_udp_batch *batch, int index, int length, const arbiter_udp_address *destination) {
    struct msghdr *header = &batch->messages[index].msg_hdr;
    header->msg_namelen = from_address(destination, batch->socket_family, &batch->addresses[index]);
    batch->vectors[index].iov_len = (size_t)length;
}

int arbiter_udp_open(const arbiter_udp_address *bind_address, int socket_buffer_bytes, arbiter_udp_address *bound) {
    int family = bind_address->family == 6 ? AF_INET6 : AF_INET;
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) return -errno;
    if (family == AF_INET6) {
        int v6only = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (socket_buffer_bytes > 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &socket_buffer_bytes, sizeof(socket_buffer_bytes));
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer_bytes, sizeof(socket_buffer_bytes));
    }
    struct sockaddr_storage storage;
    socklen_t length = from_address(bind_address, family, &storage);
    if (bind(fd, (struct sockaddr *)&storage, length) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    if (bound) {
        socklen_t size = sizeof(storage);
        memset(&storage, 0, sizeof(storage));
        if (getsockname(fd, (struct sockaddr *)&storage, &size) == 0) {
            to_address(&storage, bound);
            // Keep the family the caller asked for, even for "::" (to_address cannot tell).
            if (family == AF_INET6 && bound->family != 6) bound->family = 6;
        }
    }
    return fd;
}

void arbiter_udp_close(int fd) { close(fd); }

int arbiter_tcp_probe_listen(const arbiter_udp_address *address) {
    int family = address->family == 6 ? AF_INET6 : AF_INET;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return -errno;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (family == AF_INET6) {
        int v6only = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    struct sockaddr_storage storage;
    socklen_t length = from_address(address, family, &storage);
    int result = 0;
    if (bind(fd, (struct sockaddr *)&storage, length) != 0 || listen(fd, 1) != 0) result = -errno;
    close(fd);
    return result;
}

int arbiter_udp_receive(int fd, arbiter_udp_batch *batch) {
    for (int i = 0; i < batch->capacity; i++) {
        batch->vectors[i].iov_len = (size_t)batch->buffer_bytes;
        batch->messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        batch->messages[i].msg_hdr.msg_flags = 0;
        batch->messages[i].msg_hdr.msg_control = batch->controls + (size_t)i * ARBITER_CONTROL_BYTES;
        batch->messages[i].msg_hdr.msg_controllen = ARBITER_CONTROL_BYTES;
        batch->messages[i].msg_len = 0;
    }
    int count = recvmmsg(fd, batch->messages, (unsigned)batch->capacity, MSG_DONTWAIT, NULL);
    if (count < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        return -errno;
    }
    // A datagram larger than the buffer is truncated by the kernel; report it as too long so
    // the protocol layer drops it instead of parsing a prefix.
    for (int i = 0; i < count; i++) {
        if (batch->messages[i].msg_hdr.msg_flags & MSG_TRUNC) batch->messages[i].msg_len = (unsigned)batch->buffer_bytes + 1;
    }
    return count;
}

int arbiter_udp_send(int fd, arbiter_udp_batch *batch, int count, int *failed) {
    int sent = 0;
    int errors = 0;
    while (sent < count) {
        int result = sendmmsg(fd, batch->messages + sent, (unsigned)(count - sent), MSG_DONTWAIT);
        if (result < 0) {
            if (errno == EINTR) continue;
            // The first datagram failed (full buffer, unreachable peer...): skip it and go on,
            // as UDP would have lost it anyway.
            errors++;
            sent++;
            continue;
        }
        sent += result;
    }
    if (failed) *failed = errors;
    return sent - errors;
}

int arbiter_udp_wait_readable(int fd, int timeout_ms) {
    struct pollfd descriptor = {.fd = fd, .events = POLLIN, .revents = 0};
    int result = poll(&descriptor, 1, timeout_ms);
    if (result < 0) return errno == EINTR ? 0 : -errno;
    return result > 0 ? 1 : 0;
}

int arbiter_udp_enable_receive_timestamps(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0 ? 0 : -errno;
}

int64_t arbiter_realtime_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

void arbiter_sleep_until(uint64_t monotonic_nanoseconds) {
    struct timespec until = {.tv_sec = (time_t)(monotonic_nanoseconds / 1000000000ull),
                             .tv_nsec = (long)(monotonic_nanoseconds % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {}
}

int arbiter_allowed_cpus(int *cpus, int capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -errno;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (count < capacity) cpus[count] = cpu;
        count++;
    }
    return count;
}

int arbiter_pin_current_thread(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return -EINVAL;
        CPU_SET(cpus[i], &set);
    }
    int result = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    return result == 0 ? 0 : -result;
}

int arbiter_name_current_thread(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    return -pthread_setname_np(pthread_self(), truncated);
}

#include <stdio.h>
void arbiter_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
