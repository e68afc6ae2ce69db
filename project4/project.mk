# project4/: "Interrupt and I/O virtualization". Its student files are
# compiled for ring 3 into the user image (user/user.mk), -DSOLUTION when
# SOLUTION names 4; every other .c file here is given kernel code.
#
#   make bench-p4 [CPU=model]       project 4 under Bochs with the reference solution: the timer's interrupts per emulated second and injection latency, virtio-blk sectors per emulated second (one request and a batch a notification), minos on both (its VM's instructions, exits, interrupts), the suite against a bare boot
STUDENT_FILES_4 := project4/timer.c project4/virtio_blk.c
# The student functions the framework calls (upcalls).
ENTRIES_4 := timer_wrmsr timer_rdmsr timer_expired timer_deliver vblk_mmio
# The headers student files may include (the autograder rejects others).
ALLOWED_HEADERS_4 := project4/timer.h project4/virtio_blk.h project3/mmio.h kev/kev.h kernel/types.h \
                     kernel/printk.h kernel/panic.h kernel/string.h

# The virtio device's disk: a boot module (kernel/module.h) every VM's
# disk starts as a copy of. 256 sectors of 512 bytes; each sector begins
# with its number (8 bytes, little-endian), the rest is byte i of the
# image = (i * 2654435761) >> 13 mod 256 (every byte value, no sector like
# another).
MODULES += p4-disk:$(OBJ)/project4/disk.img
$(OBJ)/project4/disk.img: project4/project.mk
	@mkdir -p $(@D)
	@$(PYTHON) -c 'import sys; b = bytearray(((i * 2654435761) >> 13) & 255 for i in range(256 * 512)); \
		[b.__setitem__(slice(s * 512, s * 512 + 8), s.to_bytes(8, "little")) for s in range(256)]; \
		sys.stdout.buffer.write(b)' > $@
KERNEL_C += $(filter-out $(STUDENT_FILES_4),$(wildcard project4/*.c))

# The benchmarks (KTEST_BENCH tests in project4/tests.c) report
# `@@ test data <test> figure <words>`, printed here with the project's
# suite timed against a bare boot (grader/bench.py). Figures are printed,
# never asserted.
P4_BENCHES := p4_bench_rate p4_bench_latency p4_bench_virtio_single p4_bench_virtio_batch p4_bench_minos
.PHONY: bench-p4
bench-p4:
	@$(MAKE) --no-print-directory PROJECT=4 SOLUTION=all all
	@$(PYTHON) grader/grade.py run --build $(BUILD_ALL_SOLUTIONS) --backend bochs $(if $(CPU),--cpu-model $(CPU)) \
		--test $(subst $(space),$(comma),$(strip $(P4_BENCHES))) > $(BUILD_ALL_SOLUTIONS)/bench-p4.log 2>&1; \
	n=$$(grep -c '^@@ test data p4_bench_[a-z0-9_]* figure ' $(BUILD_ALL_SOLUTIONS)/bench-p4.log); \
	[ "$$n" = "$(words $(P4_BENCHES))" ] \
		|| { cat $(BUILD_ALL_SOLUTIONS)/bench-p4.log; echo "bench-p4: a benchmark did not run (log above)"; exit 1; }; \
	sed -n 's/^@@ test data p4_bench_[a-z0-9_]* figure \(.*\)/p4: \1/p' $(BUILD_ALL_SOLUTIONS)/bench-p4.log \
		| sed "s/\\\\x20/ /g"
	@b=$(BUILD_ALL_SOLUTIONS); ms() { s=$$(date +%s%N); "$$@" > /dev/null 2>&1; echo $$(( ($$(date +%s%N) - s) / 1000000 )); }; \
	for i in 1 2 3; do \
		echo "$$(ms $(PYTHON) grader/grade.py run --build $$b --backend bochs $(if $(CPU),--cpu-model $(CPU)) --test none) \
			$$(ms $(PYTHON) grader/grade.py grade --build $$b --project 4 --backend bochs $(if $(CPU),--cpu-model $(CPU)) --seed 1 -j 1 --out $$b/bench-grade)"; \
	done | sort -n -k2 | sed -n 2p | { read boot suite; \
		echo "p4: the suite (reference solution, seed 1, one boot) takes $$suite ms, a bare boot $$boot ms (the median of 3 runs): $$(awk "BEGIN { printf \"%.2f\", $$suite / $$boot }")x"; }
bench: bench-p4
