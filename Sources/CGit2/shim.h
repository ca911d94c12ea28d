#ifndef TAI_CGIT2_SHIM_H
#define TAI_CGIT2_SHIM_H
#include <git2.h>

/// GIT_OID_HEXSZ is a macro; expose it as a typed constant.
static inline int tai_git_oid_hexsz(void) { return GIT_OID_HEXSZ; }

/// git_libgit2_opts is variadic; Swift cannot call it. Typed wrapper for the int-valued options.
static inline int tai_git_opts_int(int option, int value) { return git_libgit2_opts(option, value); }

/// git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path): trust a CA bundle for https.
static inline int tai_git_opts_set_ssl_cert_locations(const char *file, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}

/// The raw SSH host key of a certificate passed to the certificate_check callback: its bytes (or
/// NULL when the cert is not an SSH host key with a raw key) and length.
static inline const unsigned char *tai_git_cert_ssh_raw(git_cert *cert, size_t *length) {
    if (cert == NULL || cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) return NULL;
    git_cert_hostkey *hostkey = (git_cert_hostkey *)cert;
    if ((hostkey->type & GIT_CERT_SSH_RAW) == 0) return NULL;
    *length = hostkey->hostkey_len;
    return (const unsigned char *)hostkey->hostkey;
}
static inline int tai_git_cert_is_ssh(git_cert *cert) { return cert != NULL && cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2; }
#endif
