/* Exported wrappers for DPDK's static-inline functions. Called per burst,
 * never per packet: per-packet mbuf helpers live in Rust on the rte_mbuf fields. */
#ifndef ANCHOR_SHIM_H
#define ANCHOR_SHIM_H
#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

uint16_t anchor_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t anchor_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
struct rte_mbuf *anchor_pktmbuf_alloc(struct rte_mempool *mp);
void anchor_pktmbuf_free(struct rte_mbuf *m);
void anchor_pktmbuf_free_bulk(struct rte_mbuf **m, unsigned int n);
unsigned int anchor_lcore_id(void);
int anchor_errno(void);
unsigned int anchor_ring_enqueue_burst(struct rte_ring *r, void *const *objs, unsigned int n);
unsigned int anchor_ring_dequeue_burst(struct rte_ring *r, void **objs, unsigned int n);
unsigned int anchor_mempool_avail(const struct rte_mempool *mp);
unsigned int anchor_mempool_in_use(const struct rte_mempool *mp);
uint64_t anchor_rdtsc(void);
void anchor_pause(void);
#endif
