# Make fragment for tests/kvm-spte: the SPTE a HugeScope merge installs,
# checked in user space with Intel EPT and AMD NPT masks from the patched
# kernel tree's own code (issue 11's EPT finding; this platform cannot run
# EPT).  TAP output.
#
#   kvm-spte-check  extract from build/linux, build under ASan/UBSan, run

.PHONY: kvm-spte-check
kvm-spte-check:
	@bash tests/kvm-spte/run.sh
