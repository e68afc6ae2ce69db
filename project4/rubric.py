"""Project 4's rubric: its categories and their points. The tests, each
with its category and weight, are defined in project4/tests.c; the grader
reads them from the built kernel (grader/rubric.py)."""

from grader.rubric import Category

CATEGORIES = [
    Category("Timer", 45, "timer_wrmsr, timer_rdmsr, timer_expired, timer_deliver: the guest's "
             "TSC-deadline timer and its interrupt, injected or through the interrupt window"),
    Category("Virtio", 45, "vblk_mmio, vblk_reset, vblk_notify, vblk_request: a virtio-mmio block "
             "device, its status handshake, one split virtqueue and the block requests"),
    Category("Guest kernel", 10, "the timer and the virtio disk serving a guest OS: minos, project "
             "3's guest kernel, ticks on its timer and reads a file through its own driver"),
]
