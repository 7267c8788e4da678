// The semaphore-guarded probe of usdt_target (see usdt_target.c). With
// _SDT_HAS_SEMAPHORES, sys/sdt.h records the address of
// bpfskel_sema_semaphore in the probe's note; a tracer that attaches
// increments it (the kernel does, through the uprobe's reference counter
// offset), and the program fires the probe only while it is non-zero.

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short bpfskel_sema_semaphore
	__attribute__((unused)) __attribute__((section(".probes")));

int fire_sema(int i)
{
	if (__builtin_expect(bpfskel_sema_semaphore, 0)) {
		STAP_PROBE1(bpfskel, sema, i);
		return 1;
	}
	return 0;
}
