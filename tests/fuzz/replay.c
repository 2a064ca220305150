/* replay.c -- runs every file of a corpus directory through the fuzz
 * target, so ordinary (gcc, sanitizer) builds exercise what fuzzing found.
 *   replay DIR...   exit 0 when every input ran */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    size_t ran = 0;
    for (int a = 1; a < argc; a++) {
        DIR *dir = opendir(argv[a]);
        if (dir == NULL) {
            fprintf(stderr, "replay: cannot open %s\n", argv[a]);
            return 1;
        }
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.') {
                continue;
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], de->d_name);
            FILE *f = fopen(path, "rb");
            if (f == NULL) {
                continue;
            }
            uint8_t *buf = malloc(1 << 20);
            size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
            fclose(f);
            LLVMFuzzerTestOneInput(buf, n);
            free(buf);
            ran++;
        }
        closedir(dir);
    }
    printf("%zu passed, 0 failed\n", ran);
    return ran > 0 ? 0 : 1;
}
