#ifndef ARBITER_UDP_H
#define ARBITER_UDP_H

#include <stdint.h>

/// An IP address and port in a form Swift can read without sockaddr casts.
/// `family` is 4 or 6; IPv4 uses the first 4 bytes of `bytes` (network order).
typedef struct arbiter_udp_address {
    uint8_t family;
    uint8_t bytes[16];
    uint16_t port;
} arbiter_udp_address;

/// A preallocated batch of datagram buffers for recvmmsg / sendmmsg.
/// Created once per socket; the hot path never allocates.
typedef struct arbiter_udp_batch arbiter_udp_batch;

/// `address_family` (4 or 6) is the family of the socket the batch serves.
arbiter_udp_batch *arbiter_udp_batch_create(int capacity, int buffer_bytes, int address_family);
void arbiter_udp_batch_destroy(arbiter_udp_batch *batch);
int arbiter_udp_batch_capacity(const arbiter_udp_batch *batch);
int arbiter_udp_batch_buffer_bytes(const arbiter_udp_batch *batch);
uint8_t *arbiter_udp_batch_buffer(arbiter_udp_batch *batch, int index);
int arbiter_udp_batch_length(const arbiter_udp_batch *batch, int index);
/// When the kernel received entry `index` (CLOCK_REALTIME nanoseconds), or 0 when the socket
/// does not ask for receive timestamps (``arbiter_udp_enable_receive_timestamps``).
int64_t arbiter_udp_batch_received_at(const arbiter_udp_batch *batch, int index);
void arbiter_udp_batch_address(const arbiter_udp_batch *batch, int index, arbiter_udp_address *out);
/// Marks entry `index` as a datagram of `length` bytes to send to `destination`.
void arbiter_udp_batch_prepare(arbiter_udp_batch *batch, int index, int length, const arbiter_udp_address *destination);

/// Opens a non-blocking UDP socket bound to `bind_address` with the requested send and receive
/// buffer sizes. An IPv6 socket bound to `::` also accepts IPv4 (dual stack).
/// Returns the descriptor, or -errno. `bound` receives the actual bound address (port 0 resolved).
int arbiter_udp_open(const arbiter_udp_address *bind_address, int socket_buffer_bytes, arbiter_udp_address *bound);
void arbiter_udp_close(int fd);

/// Receives up to the batch capacity without blocking. Returns the count (0 when nothing is
/// waiting) or -errno.
int arbiter_udp_receive(int fd, arbiter_udp_batch *batch);
/// Sends entries [0, count) with as few syscalls as the kernel allows. Returns the number of
/// datagrams handed to the kernel; datagrams refused with a per-datagram error are skipped and
/// counted in `failed`.
int arbiter_udp_send(int fd, arbiter_udp_batch *batch, int count, int *failed);
/// Waits until the socket is readable or `timeout_ms` passes. Returns 1 if readable, 0 on
/// timeout, -errno on error (EINTR is reported as 0).
int arbiter_udp_wait_readable(int fd, int timeout_ms);
/// Asks the kernel to stamp every datagram with its arrival time (SO_TIMESTAMPNS). 0 or -errno.
int arbiter_udp_enable_receive_timestamps(int fd);

/// CLOCK_REALTIME in nanoseconds (the clock of the kernel's receive timestamps).
int64_t arbiter_realtime_nanoseconds(void);
/// Sleeps until CLOCK_MONOTONIC reads `monotonic_nanoseconds` (at once if it already has).
void arbiter_sleep_until(uint64_t monotonic_nanoseconds);

/// The CPUs this process may run on: writes up to `capacity` of them to `cpus` and returns how
/// many there are (or -errno).
int arbiter_allowed_cpus(int *cpus, int capacity);
/// Pins the calling thread to the `count` CPUs in `cpus`. 0 or -errno.
int arbiter_pin_current_thread(const int *cpus, int count);
/// Names the calling thread (at most 15 bytes are kept), as top, perf and /proc show it.
int arbiter_name_current_thread(const char *name);



/// Checks that a TCP socket could listen on `address` now (binds with SO_REUSEADDR, as servers
/// do, listens, and closes again). Returns 0, or -errno (EADDRINUSE when another socket holds it).
/// Port 0 always succeeds.
int arbiter_tcp_probe_listen(const arbiter_udp_address *address);

/// Makes standard output line-buffered, so a supervising process sees each line at once.
void arbiter_line_buffer_stdout(void);
#endif
