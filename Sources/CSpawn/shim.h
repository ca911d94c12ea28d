// posix_spawn from glibc, with the two GNU file actions Swift's Glibc module leaves out
// (it is not built with _GNU_SOURCE). Both are in glibc since 2.34; Debian 12 has 2.36.
#include <spawn.h>
#include <signal.h>
#include <sys/wait.h>
#include <poll.h>
#include <fcntl.h>
#include <unistd.h>

extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *__restrict actions, const char *__restrict path);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern int pipe2(int pipefd[2], int flags);

// Process-wide memory: glibc keeps freed heap in its arenas; a long-running agent hands it back.
#include <malloc.h>
