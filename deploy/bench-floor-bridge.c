/*
 * The least a userspace bridge can do, as a floor for deploy/bench-datapaths.sh: two AF_PACKET sockets with TPACKET_V2
 * receive rings, one thread that reads both and sends every frame as it is to the other port with a plain send().
 * No filtering, no connection tracking. It spins while frames come (sched_yield() when both rings are empty, as the
 * daemon's busy-polling reader does) and sleeps in poll() once nothing came for WINDOW_US, so it takes a CPU only
 * while it is measured.
 *
 *   bench-floor-bridge IF_A IF_B [WINDOW_US]      (root; build: cc -O2 -o bench-floor-bridge bench-floor-bridge.c)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct port {
    int fd;
    char *ring;
    unsigned frames, frame_size, next;
};

static void fail(const char *what, const char *name)
{
    fprintf(stderr, "bench-floor-bridge: %s %s: ", what, name);
    perror(NULL);
    exit(1);
}

static void open_port(struct port *p, const char *name)
{
    struct tpacket_req req = { .tp_block_size = 1 << 16, .tp_block_nr = 64, .tp_frame_size = 2048, .tp_frame_nr = 64 * 32 };
    int version = TPACKET_V2, one = 1;
    unsigned index = if_nametoindex(name);
    if (index == 0) fail("no interface", name);
    p->fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (p->fd < 0) fail("socket", name);
    if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) fail("PACKET_VERSION", name);
    /* what we send on a port is not read back from it */
    if (setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0) fail("PACKET_IGNORE_OUTGOING", name);
    if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) fail("PACKET_RX_RING", name);
    p->ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
    if (p->ring == MAP_FAILED) fail("mmap", name);
    p->frames = req.tp_frame_nr;
    p->frame_size = req.tp_frame_size;
    p->next = 0;
    struct sockaddr_ll address = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)index };
    if (bind(p->fd, (struct sockaddr *)&address, sizeof address) != 0) fail("bind", name);
    struct packet_mreq promiscuous = { .mr_ifindex = (int)index, .mr_type = PACKET_MR_PROMISC };
    if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promiscuous, sizeof promiscuous) != 0) fail("promiscuous", name);
}

/* Forwards the next frame of `from`, if there is one, to `to`; returns 1 if it did. */
static int forward_one(struct port *from, struct port *to)
{
    volatile struct tpacket2_hdr *h = (volatile struct tpacket2_hdr *)(from->ring + (size_t)from->next * from->frame_size);
    if (!(h->tp_status & TP_STATUS_USER)) return 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (send(to->fd, (const char *)h + h->tp_mac, h->tp_snaplen, MSG_DONTWAIT) < 0) perror("bench-floor-bridge: send");
    __atomic_thread_fence(__ATOMIC_RELEASE);
    h->tp_status = TP_STATUS_KERNEL;
    from->next = (from->next + 1) % from->frames;
    return 1;
}

static long long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench-floor-bridge IF_A IF_B [WINDOW_US]\n");
        return 2;
    }
    long long window = argc == 4 ? atoll(argv[3]) : 50000;
    struct port a, b;
    open_port(&a, argv[1]);
    open_port(&b, argv[2]);
    long long last = now_us();
    for (;;) {
        int moved = forward_one(&a, &b) + forward_one(&b, &a);
        if (moved) {
            last = now_us();
        } else if (now_us() - last < window) {
            sched_yield();
        } else {
            struct pollfd both[2] = { { .fd = a.fd, .events = POLLIN }, { .fd = b.fd, .events = POLLIN } };
            poll(both, 2, -1);
            last = now_us();
        }
    }
}
