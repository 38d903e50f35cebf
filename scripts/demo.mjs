// `pnpm demo` until the whole-loop issue lands: say plainly what is missing instead of failing somewhere deep.
console.error(
  "pnpm demo is not built yet: the offline loop (GitHub peer, hub, local thopter, real Claude CLI on a scripted model) " +
    "arrives with the 'whole loop' issue. Today: `pnpm test` runs every part, `pnpm start` runs the hub.",
);
process.exit(1);
