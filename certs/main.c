/* flink-certs: writes the webhook's CA and serving certificate. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certgen.h"

static void usage(FILE *f) {
  fputs(
      "usage:\n"
      "  flink-certs generate --out-dir DIR [--service NAME] [--namespace NS] [--dns NAME]...\n"
      "                      [--ip ADDR]... [--days N] [--key-type ec|rsa]\n"
      "                      [--ca-cert FILE --ca-key FILE]\n"
      "      writes ca.crt, ca.key (unless an existing CA is given), tls.crt, tls.key; the "
      "serving\n"
      "      certificate names <service>.<namespace>.svc and "
      "<service>.<namespace>.svc.cluster.local\n"
      "      plus every --dns and --ip. Validity defaults to 365 days; keys default to EC P-256.\n"
      "  flink-certs ca-bundle FILE     prints the base64 of a PEM file (a webhook caBundle)\n"
      "  flink-certs not-after FILE     prints the certificate's notAfter as unix seconds\n",
      f);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct fo_buf b;
  fo_buf_init(&b, 1 << 20);
  char chunk[4096];
  size_t n;
  fo_buf_append(&b, "", 0);
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (fo_buf_append(&b, chunk, n) < 0) break;
  fclose(f);
  return fo_buf_steal(&b);
}

static int write_file(const char *dir, const char *name, const struct fo_buf *b, mode_t mode) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f) return -errno;
  chmod(tmp, mode);
  size_t w = fwrite(b->data, 1, b->len, f);
  if (fclose(f) != 0 || w != b->len) return -EIO;
  return rename(tmp, path) < 0 ? -errno : 0; /* atomic for readers */
}

static int cmd_generate(int argc, char **argv) {
  static const struct option lo[] = {{"out-dir", required_argument, NULL, 'o'},
                                     {"service", required_argument, NULL, 's'},
                                     {"namespace", required_argument, NULL, 'n'},
                                     {"dns", required_argument, NULL, 'd'},
                                     {"ip", required_argument, NULL, 'i'},
                                     {"days", required_argument, NULL, 'D'},
                                     {"seconds", required_argument, NULL, 'S'},
                                     {"key-type", required_argument, NULL, 'k'},
                                     {"ca-cert", required_argument, NULL, 'c'},
                                     {"ca-key", required_argument, NULL, 'K'},
                                     {NULL, 0, NULL, 0}};
  const char *out = NULL, *svc = "flink-operator-webhook", *ns = "flink-operator", *ca_cert = NULL,
             *ca_key = NULL;
  const char *dns[64], *ips[64];
  size_t nd = 0, ni = 0;
  long days = 365, secs = 0;
  enum fo_key_type kt = FO_KEY_EC_P256;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'o': out = optarg; break;
    case 's': svc = optarg; break;
    case 'n': ns = optarg; break;
    case 'd':
      if (nd < 60) dns[nd++] = optarg;
      break;
    case 'i':
      if (ni < 64) ips[ni++] = optarg;
      break;
    case 'D':
      days = strtol(optarg, &end, 10);
      if (*end || days < 1 || days > 3650) {
        fprintf(stderr, "flink-certs: --days must be 1..3650\n");
        return 2;
      }
      break;
    case 'S':
      secs = strtol(optarg, &end, 10);
      if (*end || secs < 1) {
        fprintf(stderr, "flink-certs: --seconds must be positive\n");
        return 2;
      }
      break;
    case 'k':
      if (!strcmp(optarg, "ec")) kt = FO_KEY_EC_P256;
      else if (!strcmp(optarg, "rsa")) kt = FO_KEY_RSA_2048;
      else {
        fprintf(stderr, "flink-certs: --key-type must be ec or rsa\n");
        return 2;
      }
      break;
    case 'c': ca_cert = optarg; break;
    case 'K': ca_key = optarg; break;
    default: usage(stderr); return 2;
    }
  }
  if (!out || (!ca_cert) != (!ca_key)) {
    usage(stderr);
    return 2;
  }
  char svc1[512], svc2[512];
  snprintf(svc1, sizeof svc1, "%s.%s.svc", svc, ns);
  snprintf(svc2, sizeof svc2, "%s.%s.svc.cluster.local", svc, ns);
  const char *all_dns[66];
  size_t na = 0;
  all_dns[na++] = svc1;
  all_dns[na++] = svc2;
  for (size_t i = 0; i < nd; i++) all_dns[na++] = dns[i];
  struct fo_buf cap, cak, crt, key;
  fo_buf_init(&cap, 1 << 20);
  fo_buf_init(&cak, 1 << 20);
  fo_buf_init(&crt, 1 << 20);
  fo_buf_init(&key, 1 << 20);
  const char *why = NULL;
  int rc = 1;
  mkdir(out, 0755);
  if (ca_cert) {
    char *a = slurp(ca_cert), *b = slurp(ca_key);
    if (!a || !b) {
      fprintf(stderr, "flink-certs: cannot read the CA files\n");
      free(a);
      free(b);
      goto done;
    }
    fo_buf_puts(&cap, a);
    fo_buf_puts(&cak, b);
    free(a);
    free(b);
  } else {
    struct fo_cert_request ca = {.common_name = "flink-operator-webhook-ca",
                                 .days = days > 3650 ? days : 3650,
                                 .key_type = kt};
    if (secs) ca.days = 3650;
    if (fo_certgen_ca(&ca, &cap, &cak, &why) < 0) {
      fprintf(stderr, "flink-certs: %s\n", why);
      goto done;
    }
  }
  struct fo_cert_request rq = {.common_name = svc1,
                               .dns = all_dns,
                               .n_dns = na,
                               .ips = ips,
                               .n_ips = ni,
                               .days = days,
                               .seconds = secs,
                               .key_type = kt};
  if (fo_certgen_serving(&rq, cap.data, cak.data, &crt, &key, &why) < 0) {
    fprintf(stderr, "flink-certs: %s\n", why);
    goto done;
  }
  if ((!ca_cert &&
       (write_file(out, "ca.crt", &cap, 0644) < 0 || write_file(out, "ca.key", &cak, 0600) < 0)) ||
      write_file(out, "tls.key", &key, 0600) < 0 || write_file(out, "tls.crt", &crt, 0644) < 0) {
    fprintf(stderr, "flink-certs: cannot write to %s\n", out);
    goto done;
  }
  rc = 0;
done:
  fo_buf_free(&cap);
  fo_buf_free(&cak);
  fo_buf_free(&crt);
  fo_buf_free(&key);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "generate")) return cmd_generate(argc - 1, argv + 1);
  if ((!strcmp(argv[1], "ca-bundle") || !strcmp(argv[1], "not-after")) && argc == 3) {
    char *pem = slurp(argv[2]);
    if (!pem) {
      fprintf(stderr, "flink-certs: cannot read %s\n", argv[2]);
      return 1;
    }
    int rc = 0;
    if (!strcmp(argv[1], "ca-bundle")) {
      struct fo_buf b;
      fo_buf_init(&b, 1 << 22);
      if (fo_certgen_base64(pem, &b) == 0) printf("%s\n", b.data);
      else rc = 1;
      fo_buf_free(&b);
    } else {
      int64_t t;
      const char *why;
      if (fo_certgen_not_after(pem, &t, &why) == 0) printf("%lld\n", (long long)t);
      else {
        fprintf(stderr, "flink-certs: %s\n", why);
        rc = 1;
      }
    }
    free(pem);
    return rc;
  }
  if (!strcmp(argv[1], "--help")) {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return 2;
}
