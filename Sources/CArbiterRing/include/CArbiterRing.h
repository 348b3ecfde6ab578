#ifndef ARBITER_RING_H
#define ARBITER_RING_H

#include <stdint.h>

/// The UDP sockets of one bot thread, each connected to its server, read and written together:
/// one tick's sends for every socket and the receives that arrived go through one io_uring
/// (multishot receives into a shared ring of provided buffers, so a datagram costs no submission
/// of its own), with one or two io_uring_enter calls per tick whatever the number of sockets.
/// When io_uring cannot be set up (EPERM or ENOSYS in some containers, or a kernel without the
/// features used) the same calls fall back to plain non-blocking send/recv per socket.
///
/// Single-threaded: one thread creates the set and makes every call on it. Nothing allocates
/// after `arbiter_ring_create`.
typedef struct arbiter_ring arbiter_ring;

/// One received datagram, lent until `arbiter_ring_release`.
typedef struct arbiter_ring_datagram {
    /// The socket it arrived on (as `arbiter_ring_open_socket` numbered it).
    int32_t socket;
    /// Its length; a datagram longer than the buffer shows as the full buffer (so as too long).
    int32_t length;
    const uint8_t *bytes;
} arbiter_ring_datagram;

/// Counters since creation.
typedef struct arbiter_ring_counters {
    uint64_t enters;              ///< io_uring_enter calls (or, in fallback, syscalls made)
    uint64_t datagrams_sent;
    uint64_t datagrams_received;
    uint64_t send_failures;       ///< sends the kernel refused (or no free send slot)
    uint64_t receive_rearms;      ///< multishot receives that ended and were armed again
    uint64_t receive_errors;      ///< receive completions with an error other than ENOBUFS
} arbiter_ring_counters;

/// Creates a set for up to `max_sockets` sockets, each datagram at most `buffer_bytes`.
/// `use_io_uring` 0 forces the fallback (tests, and `--no-io-uring`). NULL when out of memory.
arbiter_ring *arbiter_ring_create(int max_sockets, int buffer_bytes, int use_io_uring);
void arbiter_ring_destroy(arbiter_ring *ring);
/// 1 when the set runs on io_uring, 0 in the fallback.
int arbiter_ring_uses_io_uring(const arbiter_ring *ring);
/// Why io_uring was not used: the errno of the failed set-up (0 when it is used or was not tried).
int arbiter_ring_setup_errno(const arbiter_ring *ring);
void arbiter_ring_get_counters(const arbiter_ring *ring, arbiter_ring_counters *out);

/// Opens a non-blocking UDP socket on an ephemeral port, connected to `server` (`family` 4 or
/// 6, `address` 16 bytes in network order, IPv4 in the first 4), and starts receiving on it.
/// Returns its number (0, 1, ...), or -errno.
int arbiter_ring_open_socket(arbiter_ring *ring, int family, const uint8_t *address, uint16_t port);

/// Queues `length` bytes to go out on `socket` at the next `arbiter_ring_submit` (copied now).
/// Returns 0, or -ENOBUFS / -errno when the datagram could not be queued (counted).
int arbiter_ring_send(arbiter_ring *ring, int socket, const void *bytes, int length);

/// Hands the queued sends and re-armed receives to the kernel and collects what completed:
/// one io_uring_enter (in the fallback, the sends were already made; this restarts the scan
/// of the sockets for `arbiter_ring_harvest`).
void arbiter_ring_submit(arbiter_ring *ring);

/// Fills `out` with up to `max` received datagrams; 0 when nothing more has arrived since the
/// last `arbiter_ring_submit`. The bytes stay valid until `arbiter_ring_release`.
int arbiter_ring_harvest(arbiter_ring *ring, arbiter_ring_datagram *out, int max);

/// Gives the buffers of every harvested datagram back (their bytes are then gone).
void arbiter_ring_release(arbiter_ring *ring);

/// Waits (up to `timeout_ms`) until every queued send has completed, after a last submit:
/// for the disconnect packets at the end of a run.
void arbiter_ring_flush(arbiter_ring *ring, int timeout_ms);



/// This process's CPU time so far (user and system), in microseconds.
void arbiter_process_cpu_micros(uint64_t *user, uint64_t *system);
#endif
