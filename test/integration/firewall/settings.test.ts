import { chmodSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  FirewallError,
  githubRanges,
  loadGithubRanges,
  nameservers,
  readSettings,
  SKIPPED_WARNING,
  skipRequested,
} from "@thopter/agent/firewall/index";
import { describe, expect, it, onTestFinished } from "vitest";
import { tempDir } from "../../helpers/tmp.js";

const COLLECTOR_URL = "http://[fdaa:0:1::2]:8081";
const RESOLVERS = "fdaa::3";

describe("DANGEROUSLY_SKIP_FIREWALL", () => {
  it("only I_UNDERSTAND switches the firewall off; unset or empty keeps it; anything else is an error", () => {
    expect(skipRequested({ DANGEROUSLY_SKIP_FIREWALL: "I_UNDERSTAND" })).toBe(true);
    expect(skipRequested({})).toBe(false);
    expect(skipRequested({ DANGEROUSLY_SKIP_FIREWALL: "" })).toBe(false);
    for (const value of ["yes", "true", "1", "I_UNDERSTAND ", "i_understand"]) {
      expect(() => skipRequested({ DANGEROUSLY_SKIP_FIREWALL: value })).toThrow(
        /DANGEROUSLY_SKIP_FIREWALL=.* is not understood: set it to I_UNDERSTAND/,
      );
    }
    expect(SKIPPED_WARNING).toMatch(/^FIREWALL DISABLED/);
  });
});

describe("readSettings", () => {
  it("collects the defaults, the GitHub and model hosts, and ALLOWED_DOMAINS split into names and literals", async () => {
    const settings = await readSettings({
      COLLECTOR_URL,
      FIREWALL_RESOLVERS: RESOLVERS,
      GITHUB_API_URL: "https://ghe.example.com/api/v3",
      ANTHROPIC_BASE_URL: "http://[2001:db8::7]:4000/v1",
      ALLOWED_DOMAINS: " pypi.org,files.pythonhosted.org  203.0.113.0/24,2001:db8:5::/48 ,",
    });
    expect(settings.collector).toEqual({ host: "fdaa:0:1::2", port: 8081 });
    expect(settings.resolvers).toEqual(["fdaa::3"]);
    expect(settings.github).toEqual({ apiUrl: "https://ghe.example.com/api/v3", file: undefined });
    expect(settings.hosts.map((h) => [h.host, h.required, h.from])).toEqual([
      ["api.anthropic.com", true, "default allow-list"],
      ["registry.npmjs.org", true, "default allow-list"],
      ["statsig.anthropic.com", false, "default allow-list"],
      ["sentry.io", false, "default allow-list"],
      ["console.anthropic.com", false, "default allow-list"],
      ["claude.ai", false, "default allow-list"],
      ["ghe.example.com", true, "GITHUB_API_URL"],
      ["pypi.org", true, "ALLOWED_DOMAINS"],
      ["files.pythonhosted.org", true, "ALLOWED_DOMAINS"],
    ]);
    expect(settings.literals).toEqual([
      { cidr: "2001:db8::7", from: "ANTHROPIC_BASE_URL" },
      { cidr: "203.0.113.0/24", from: "ALLOWED_DOMAINS" },
      { cidr: "2001:db8:5::/48", from: "ALLOWED_DOMAINS" },
    ]);
  });

  it("reads the collector and GitHub from THOPTER_CONFIG and the resolver from resolv.conf; env wins", async () => {
    const dir = tempDir();
    const config = join(dir, "thopter.json");
    writeFileSync(
      config,
      JSON.stringify({ collectorUrl: "https://hub.internal", githubApiUrl: "http://198.51.100.4:9000" }),
    );
    chmodSync(config, 0o644);
    const resolvConf = join(dir, "resolv.conf");
    writeFileSync(
      resolvConf,
      "# Fly\nsearch internal\nnameserver fdaa::3 \noptions ndots:0\nnameserver 10.0.0.2 # second\n",
    );

    const settings = await readSettings({ THOPTER_CONFIG: config }, resolvConf);
    expect(settings.collector).toEqual({ host: "hub.internal", port: 443 });
    expect(settings.github.apiUrl).toBe("http://198.51.100.4:9000");
    expect(settings.literals).toEqual([{ cidr: "198.51.100.4", from: "GITHUB_API_URL" }]);
    expect(settings.resolvers).toEqual(["fdaa::3", "10.0.0.2"]);

    const overridden = await readSettings(
      { THOPTER_CONFIG: config, COLLECTOR_URL: "http://10.9.9.9:8081", GITHUB_META_FILE: "/etc/meta.json" },
      resolvConf,
    );
    expect(overridden.collector).toEqual({ host: "10.9.9.9", port: 8081 });
    expect(overridden.github.file).toBe("/etc/meta.json");

    writeFileSync(config, JSON.stringify({ collectorUrl: 8081 }));
    await expect(readSettings({ THOPTER_CONFIG: config }, resolvConf)).rejects.toThrow(
      `THOPTER_CONFIG ${config}: collectorUrl: Invalid input: expected string, received number`,
    );
    writeFileSync(config, "{");
    await expect(readSettings({ THOPTER_CONFIG: config }, resolvConf)).rejects.toThrow(`THOPTER_CONFIG ${config}: `);
    chmodSync(config, 0o666);
    await expect(readSettings({ THOPTER_CONFIG: config }, resolvConf)).rejects.toThrow(/writable only by root/);
  });

  it("refuses what cannot be allowed, naming the variable", async () => {
    const refused = (env: Record<string, string>) =>
      readSettings({ COLLECTOR_URL, FIREWALL_RESOLVERS: RESOLVERS, ...env }, "/nonexistent/resolv.conf");
    await expect(refused({ ALLOWED_DOMAINS: "*.example.com" })).rejects.toThrow(
      'ALLOWED_DOMAINS: "*.example.com": wildcards cannot be resolved',
    );
    await expect(refused({ ALLOWED_DOMAINS: "https://example.com" })).rejects.toThrow("give the host name, not a URL");
    await expect(refused({ ALLOWED_DOMAINS: "example.com,bad_host!" })).rejects.toThrow(
      'ALLOWED_DOMAINS: "bad_host!" is not a host name',
    );
    await expect(refused({ ALLOWED_DOMAINS: "198.51.100.0/33" })).rejects.toThrow("prefix longer than 32 bits");
    await expect(refused({ ALLOWED_DOMAINS: "1.2.3" })).rejects.toThrow("is not an IP address or CIDR");
    await expect(refused({ COLLECTOR_URL: "hub:8081" })).rejects.toThrow(/COLLECTOR_URL "hub:8081" must be an http/);
    await expect(refused({ ANTHROPIC_BASE_URL: "not a url" })).rejects.toThrow(
      /ANTHROPIC_BASE_URL "not a url" is not a URL/,
    );
    await expect(readSettings({ FIREWALL_RESOLVERS: RESOLVERS })).rejects.toThrow(
      /hub collector is unknown: set COLLECTOR_URL/,
    );
    await expect(readSettings({ COLLECTOR_URL }, "/nonexistent/resolv.conf")).rejects.toThrow(
      /cannot read \/nonexistent\/resolv.conf .*: set FIREWALL_RESOLVERS/,
    );
  });

  it("nameservers reads resolv.conf the way the C library does, comments and other keywords skipped", () => {
    expect(nameservers("nameserver 1.1.1.1\n;nameserver 8.8.8.8\n  nameserver\t2606:4700::1111\nnameserver\n")).toEqual(
      ["1.1.1.1", "2606:4700::1111"],
    );
  });
});

describe("GitHub's /meta", () => {
  const meta = {
    verifiable_password_authentication: true,
    hooks: ["192.0.2.1/32"],
    git: ["192.30.252.0/22", "2620:112:3000::/44"],
    api: ["140.82.112.0/20"],
    web: ["140.82.112.0/20"],
    packages: [],
    actions: ["4.148.0.0/16"],
    domains: { website: ["*.github.com"] },
  };

  it("opens git, api, web and packages only, each range labelled with its key", () => {
    const ranges = githubRanges(meta, "GET /meta");
    expect(ranges).toEqual([
      { cidr: "192.30.252.0/22", from: "GET /meta git" },
      { cidr: "2620:112:3000::/44", from: "GET /meta git" },
      { cidr: "140.82.112.0/20", from: "GET /meta api" },
      { cidr: "140.82.112.0/20", from: "GET /meta web" },
    ]);
  });

  it("refuses a body that is not /meta (an error page, a proxy's answer)", () => {
    expect(() => githubRanges({ message: "API rate limit exceeded" }, "GET /meta")).toThrow(
      "GET /meta has none of git, api, web, packages",
    );
    expect(() => githubRanges({ git: "192.30.252.0/22" }, "GET /meta")).toThrow(/GET \/meta: git: /);
    expect(() => githubRanges(["192.30.252.0/22"], "GET /meta")).toThrow(FirewallError);
  });

  it("is read from GITHUB_META_FILE, or fetched from GITHUB_API_URL/meta", async () => {
    const file = join(tempDir(), "meta.json");
    writeFileSync(file, JSON.stringify(meta));
    expect(await loadGithubRanges({ apiUrl: "http://unused.invalid", file })).toHaveLength(4);
    writeFileSync(file, "<html>");
    await expect(loadGithubRanges({ apiUrl: "http://unused.invalid", file })).rejects.toThrow(/is not JSON/);

    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? "");
      if (req.url === "/api/v3/meta") return res.writeHead(200).end(JSON.stringify(meta));
      res.writeHead(503).end("down");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => void server.close());
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await loadGithubRanges({ apiUrl: `${base}/api/v3/` })).toHaveLength(4);
    await expect(loadGithubRanges({ apiUrl: base })).rejects.toThrow(`GET ${base}/meta answered 503`);
    expect(paths).toEqual(["/api/v3/meta", "/meta"]);
  });
});
