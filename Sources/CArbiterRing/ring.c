#define _GNU_SOURCE
#include "CArbiterRing.h"

#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// A completion's user_data: the top bit marks a send (the rest is its slot), otherwise it is the
// receive of the socket with that number.
#define SEND_TAG (1ULL << 63)
#define BUFFER_GROUP 7

struct arbiter_ring {
    int uses_uring;
    int setup_errno;
    int max_sockets;
    int socket_count;
    int *fds;
    // 1 for a socket in the ring's registered file table (no file lookup per request).
    uint8_t *fixed;
    int files_registered;
    int buffer_bytes;

    // Sockets whose multishot receive must be armed (again) at the next submit.
    int *rearm;
    int rearm_count;
    uint8_t *rearm_pending;

    // Receive buffers: the provided-buffer ring's (io_uring), or a pool filled by the scan (fallback).
    uint8_t *receive_buffers;
    int receive_count;
    uint16_t *harvested;
    int harvested_count;
    int fallback_used;
    int scan_next;

    // Send slots stay busy until the send's completion.
    uint8_t *send_buffers;
    int send_slots;
    int *free_slots;
    int free_count;

    struct io_uring ring;
    struct io_uring_buf_ring *buffer_ring;
    size_t buffer_ring_bytes;

    arbiter_ring_counters counters;
};

static int power_of_two_at_least(int value, int floor, int ceiling) {
    int result = floor;
    while (result < value && result < ceiling) result <<= 1;
    return result;
}

static int setup_uring(arbiter_ring *ring) {
    int entries = power_of_two_at_least(2 * ring->max_sockets, 256, 16384);
    // Most preferred first. Cooperative task work: a receive's copy runs on this thread the next
    // time it enters the kernel (its enter or its sleep), without an interrupt. Not deferred task
    // work (IORING_SETUP_DEFER_TASKRUN): since Linux 6.13 one enter runs only 20 deferred items,
    // so a thousand sockets' receives would take fifty enters a tick to collect.
    const unsigned flag_sets[] = {
        IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER,
        IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_CQSIZE,
    };
    int result = -ENOSYS;
    for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        struct io_uring_params params;
        memset(&params, 0, sizeof(params));
        params.flags = flag_sets[i];
        params.cq_entries = (unsigned)entries * 4;
        result = io_uring_queue_init_params((unsigned)entries, &ring->ring, &params);
        if (result == 0) break;
        if (result != -EINVAL) return result;
    }
    if (result != 0) return result;

    ring->buffer_ring_bytes = (size_t)ring->receive_count * sizeof(struct io_uring_buf);
    void *memory = mmap(NULL, ring->buffer_ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (memory == MAP_FAILED) {
        io_uring_queue_exit(&ring->ring);
        return -ENOMEM;
    }
    ring->buffer_ring = memory;
    struct io_uring_buf_reg registration;
    memset(&registration, 0, sizeof(registration));
    registration.ring_addr = (uint64_t)(uintptr_t)memory;
    registration.ring_entries = (uint32_t)ring->receive_count;
    registration.bgid = BUFFER_GROUP;
    result = io_uring_register_buf_ring(&ring->ring, &registration, 0);
    if (result != 0) {
        munmap(memory, ring->buffer_ring_bytes);
        ring->buffer_ring = NULL;
        io_uring_queue_exit(&ring->ring);
        return result;
    }
    io_uring_buf_ring_init(ring->buffer_ring);
    int mask = io_uring_buf_ring_mask((uint32_t)ring->receive_count);
    for (int i = 0; i < ring->receive_count; i++) {
        io_uring_buf_ring_add(ring->buffer_ring, ring->receive_buffers + (size_t)i * (size_t)ring->buffer_bytes,
                              (unsigned)ring->buffer_bytes, (unsigned short)i, mask, i);
    }
    io_uring_buf_ring_advance(ring->buffer_ring, ring->receive_count);
    // Optional: without a registered table every request looks its socket up by descriptor.
    ring->files_registered = io_uring_register_files_sparse(&ring->ring, (unsigned)ring->max_sockets) == 0;
    return 0;
}

arbiter_ring *arbiter_ring_create(int max_sockets, int buffer_bytes, int use_io_uring) {
    if (max_sockets <= 0 || buffer_bytes <= 0) return NULL;
    arbiter_ring *ring = calloc(1, sizeof(*ring));
    if (!ring) return NULL;
    ring->max_sockets = max_sockets;
    ring->buffer_bytes = buffer_bytes;
    // Room for a few datagrams per socket between two harvests; buffer ids are 16 bits.
    ring->receive_count = power_of_two_at_least(4 * max_sockets, 256, 32768);
    ring->send_slots = 4 * max_sockets + 64;
    ring->fds = calloc((size_t)max_sockets, sizeof(int));
    ring->fixed = calloc((size_t)max_sockets, 1);
    ring->rearm = calloc((size_t)max_sockets, sizeof(int));
    ring->rearm_pending = calloc((size_t)max_sockets, 1);
    ring->receive_buffers = malloc((size_t)ring->receive_count * (size_t)buffer_bytes);
    ring->harvested = calloc((size_t)ring->receive_count, sizeof(uint16_t));
    ring->send_buffers = malloc((size_t)ring->send_slots * (size_t)buffer_bytes);
    ring->free_slots = calloc((size_t)ring->send_slots, sizeof(int));
    if (!ring->fds || !ring->fixed || !ring->rearm || !ring->rearm_pending || !ring->receive_buffers || !ring->harvested
        || !ring->send_buffers || !ring->free_slots) {
        arbiter_ring_destroy(ring);
        return NULL;
    }
    for (int i = 0; i < ring->send_slots; i++) ring->free_slots[i] = ring->send_slots - 1 - i;
    ring->free_count = ring->send_slots;
    if (use_io_uring) {
        int result = setup_uring(ring);
        ring->uses_uring = result == 0;
        ring->setup_errno = result == 0 ? 0 : -result;
    }
    return ring;
}

void arbiter_ring_destroy(arbiter_ring *ring) {
    if (!ring) return;
    // Exiting the ring cancels the receives still armed, so the sockets can then be closed.
    if (ring->uses_uring) {
        io_uring_queue_exit(&ring->ring);
        if (ring->buffer_ring) munmap(ring->buffer_ring, ring->buffer_ring_bytes);
    }
    for (int i = 0; i < ring->socket_count; i++) close(ring->fds[i]);
    free(ring->fds);
    free(ring->fixed);
    free(ring->rearm);
    free(ring->rearm_pending);
    free(ring->receive_buffers);
    free(ring->harvested);
    free(ring->send_buffers);
    free(ring->free_slots);
    free(ring);
}

int arbiter_ring_uses_io_uring(const arbiter_ring *ring) { return ring->uses_uring; }
int arbiter_ring_setup_errno(const arbiter_ring *ring) { return ring->setup_errno; }
void arbiter_ring_get_counters(const arbiter_ring *ring, arbiter_ring_counters *out) { *out = ring->counters; }

static void queue_rearm(arbiter_ring *ring, int socket) {
    if (ring->rearm_pending[socket]) return;
    ring->rearm_pending[socket] = 1;
    ring->rearm[ring->rearm_count++] = socket;
}

int arbiter_ring_open_socket(arbiter_ring *ring, int family, const uint8_t *address, uint16_t port) {
    if (ring->socket_count == ring->max_sockets) return -EMFILE;
    struct sockaddr_storage storage;
    memset(&storage, 0, sizeof(storage));
    socklen_t length;
    if (family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&storage;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, address, 4);
        length = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&storage;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, address, 16);
        length = sizeof(*sin6);
    }
    int fd = socket(storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    // Connected: the kernel binds an ephemeral port, keeps the route, and delivers only the
    // server's datagrams, so a send needs no address and a receive needs no sender check of its own.
    if (connect(fd, (struct sockaddr *)&storage, length) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    int socket = ring->socket_count++;
    ring->fds[socket] = fd;
    if (ring->files_registered) ring->fixed[socket] = io_uring_register_files_update(&ring->ring, (unsigned)socket, &fd, 1) == 1;
    if (ring->uses_uring) queue_rearm(ring, socket);
    return socket;
}

// The socket as a request names it: its slot in the registered table, or its descriptor.
static void set_file(arbiter_ring *ring, struct io_uring_sqe *sqe, int socket) {
    if (ring->fixed[socket]) {
        sqe->fd = socket;
        sqe->flags |= IOSQE_FIXED_FILE;
    }
}

static struct io_uring_sqe *next_sqe(arbiter_ring *ring) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring->ring);
    if (sqe) return sqe;
    io_uring_submit(&ring->ring);
    ring->counters.enters++;
    return io_uring_get_sqe(&ring->ring);
}

int arbiter_ring_send(arbiter_ring *ring, int socket, const void *bytes, int length) {
    if (socket < 0 || socket >= ring->socket_count || length < 0 || length > ring->buffer_bytes) return -EINVAL;
    if (!ring->uses_uring) {
        ring->counters.enters++;
        if (send(ring->fds[socket], bytes, (size_t)length, MSG_DONTWAIT) < 0) {
            ring->counters.send_failures++;
            return -errno;
        }
        ring->counters.datagrams_sent++;
        return 0;
    }
    if (ring->free_count == 0) {
        ring->counters.send_failures++;
        return -ENOBUFS;
    }
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) {
        ring->counters.send_failures++;
        return -EBUSY;
    }
    int slot = ring->free_slots[--ring->free_count];
    uint8_t *buffer = ring->send_buffers + (size_t)slot * (size_t)ring->buffer_bytes;
    memcpy(buffer, bytes, (size_t)length);
    io_uring_prep_send(sqe, ring->fds[socket], buffer, (size_t)length, 0);
    set_file(ring, sqe, socket);
    io_uring_sqe_set_data64(sqe, SEND_TAG | (uint64_t)slot);
    return 0;
}

void arbiter_ring_submit(arbiter_ring *ring) {
    if (!ring->uses_uring) {
        ring->scan_next = 0;
        return;
    }
    for (int i = 0; i < ring->rearm_count; i++) {
        int socket = ring->rearm[i];
        struct io_uring_sqe *sqe = next_sqe(ring);
        if (!sqe) {
            // Keep the rest for the next submit.
            memmove(ring->rearm, ring->rearm + i, (size_t)(ring->rearm_count - i) * sizeof(int));
            ring->rearm_count -= i;
            goto enter;
        }
        io_uring_prep_recv_multishot(sqe, ring->fds[socket], NULL, 0, 0);
        set_file(ring, sqe, socket);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = BUFFER_GROUP;
        io_uring_sqe_set_data64(sqe, (uint64_t)socket);
        ring->rearm_pending[socket] = 0;
    }
    ring->rearm_count = 0;
enter:
    io_uring_submit_and_get_events(&ring->ring);
    ring->counters.enters++;
}

static int harvest_fallback(arbiter_ring *ring, arbiter_ring_datagram *out, int max) {
    int count = 0;
    while (count < max && ring->scan_next < ring->socket_count && ring->fallback_used < ring->receive_count) {
        uint8_t *buffer = ring->receive_buffers + (size_t)ring->fallback_used * (size_t)ring->buffer_bytes;
        ring->counters.enters++;
        // MSG_TRUNC: the real length of an oversized datagram, so that it shows as too long.
        ssize_t received = recv(ring->fds[ring->scan_next], buffer, (size_t)ring->buffer_bytes, MSG_DONTWAIT | MSG_TRUNC);
        if (received < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ring->counters.receive_errors++;
            ring->scan_next++;
            continue;
        }
        out[count].socket = ring->scan_next;
        out[count].length = received > ring->buffer_bytes ? ring->buffer_bytes : (int32_t)received;
        out[count].bytes = buffer;
        ring->fallback_used++;
        ring->counters.datagrams_received++;
        count++;
    }
    return count;
}

int arbiter_ring_harvest(arbiter_ring *ring, arbiter_ring_datagram *out, int max) {
    if (!ring->uses_uring) return harvest_fallback(ring, out, max);
    int count = 0;
    unsigned seen = 0;
    unsigned head;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&ring->ring, head, cqe) {
        if (count == max || ring->harvested_count == ring->receive_count) break;
        seen++;
        uint64_t data = io_uring_cqe_get_data64(cqe);
        if (data & SEND_TAG) {
            ring->free_slots[ring->free_count++] = (int)(data & ~SEND_TAG);
            if (cqe->res < 0) ring->counters.send_failures++; else ring->counters.datagrams_sent++;
            continue;
        }
        int socket = (int)data;
        if (socket < 0 || socket >= ring->socket_count) continue;
        // The receive ended (out of buffers, or an error): arm it again at the next submit.
        if (!(cqe->flags & IORING_CQE_F_MORE)) {
            queue_rearm(ring, socket);
            ring->counters.receive_rearms++;
        }
        if (cqe->res < 0) {
            if (cqe->res != -ENOBUFS && cqe->res != -ECANCELED) ring->counters.receive_errors++;
            continue;
        }
        if (!(cqe->flags & IORING_CQE_F_BUFFER)) continue;
        int id = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        if (id >= ring->receive_count) continue;
        ring->harvested[ring->harvested_count++] = (uint16_t)id;
        out[count].socket = socket;
        out[count].length = cqe->res > ring->buffer_bytes ? ring->buffer_bytes : cqe->res;
        out[count].bytes = ring->receive_buffers + (size_t)id * (size_t)ring->buffer_bytes;
        ring->counters.datagrams_received++;
        count++;
    }
    io_uring_cq_advance(&ring->ring, seen);
    return count;
}

void arbiter_ring_release(arbiter_ring *ring) {
    if (!ring->uses_uring) {
        ring->fallback_used = 0;
        return;
    }
    if (ring->harvested_count == 0) return;
    int mask = io_uring_buf_ring_mask((uint32_t)ring->receive_count);
    for (int i = 0; i < ring->harvested_count; i++) {
        int id = ring->harvested[i];
        io_uring_buf_ring_add(ring->buffer_ring, ring->receive_buffers + (size_t)id * (size_t)ring->buffer_bytes,
                              (unsigned)ring->buffer_bytes, (unsigned short)id, mask, i);
    }
    io_uring_buf_ring_advance(ring->buffer_ring, ring->harvested_count);
    ring->harvested_count = 0;
}

void arbiter_ring_flush(arbiter_ring *ring, int timeout_ms) {
    if (!ring->uses_uring) return;
    arbiter_ring_datagram scratch[64];
    for (int waited = 0; waited <= timeout_ms; waited++) {
        arbiter_ring_submit(ring);
        while (arbiter_ring_harvest(ring, scratch, 64) > 0) arbiter_ring_release(ring);
        arbiter_ring_release(ring);
        if (ring->free_count == ring->send_slots) return;
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
}

void arbiter_process_cpu_micros(uint64_t *user, uint64_t *system) {
    struct rusage usage;
    memset(&usage, 0, sizeof(usage));
    getrusage(RUSAGE_SELF, &usage);
    *user = (uint64_t)usage.ru_utime.tv_sec * 1000000u + (uint64_t)usage.ru_utime.tv_usec;
    *system = (uint64_t)usage.ru_stime.tv_sec * 1000000u + (uint64_t)usage.ru_stime.tv_usec;
}
