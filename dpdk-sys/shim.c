#include <rte_config.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_pause.h>
#include "shim.h"

uint16_t anchor_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{ return rte_eth_rx_burst(port, queue, pkts, n); }
uint16_t anchor_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{ return rte_eth_tx_burst(port, queue, pkts, n); }
struct rte_mbuf *anchor_pktmbuf_alloc(struct rte_mempool *mp) { return rte_pktmbuf_alloc(mp); }
void anchor_pktmbuf_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }
void anchor_pktmbuf_free_bulk(struct rte_mbuf **m, unsigned int n) { rte_pktmbuf_free_bulk(m, n); }
unsigned int anchor_lcore_id(void) { return rte_lcore_id(); }
int anchor_errno(void) { return rte_errno; }
unsigned int anchor_ring_enqueue_burst(struct rte_ring *r, void *const *objs, unsigned int n)
{ return rte_ring_enqueue_burst(r, objs, n, NULL); }
unsigned int anchor_ring_dequeue_burst(struct rte_ring *r, void **objs, unsigned int n)
{ return rte_ring_dequeue_burst(r, objs, n, NULL); }
unsigned int anchor_mempool_avail(const struct rte_mempool *mp) { return rte_mempool_avail_count(mp); }
unsigned int anchor_mempool_in_use(const struct rte_mempool *mp) { return rte_mempool_in_use_count(mp); }
uint64_t anchor_rdtsc(void) { return rte_rdtsc(); }
void anchor_pause(void) { rte_pause(); }
