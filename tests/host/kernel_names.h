/*
 * Force-included (gcc -include) into the kernel files and the test files of
 * the host build. The kernel defines its own memset, strlen, snprintf, ...
 * with the C library's names; linked into a host program they would replace
 * the C library's for everybody, the sanitizers' runtime included. Renaming
 * them kern_* at compile time keeps the two apart: kernel code (and the
 * tests that call it) reach the kernel's functions, while harness.c and
 * shim.c, built without this file, use the C library. Calls that gcc itself
 * emits (struct copies) still go to the C library, which is harmless.
 */
#define memset kern_memset
#define memcpy kern_memcpy
#define memmove kern_memmove
#define memcmp kern_memcmp
#define strlen kern_strlen
#define strnlen kern_strnlen
#define strcmp kern_strcmp
#define strncmp kern_strncmp
#define strchr kern_strchr
#define strstr kern_strstr
#define strlcpy kern_strlcpy
#define snprintf kern_snprintf
#define vsnprintf kern_vsnprintf
#define printk kern_printk
#define vprintk kern_vprintk
