// Runs before `pnpm install`: a too-old Node fails later in confusing ways, so say it once, plainly.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(
    `Thopter Swarm needs Node.js >= 20.19 (found ${process.versions.node}): install a newer Node.js and run the command again.`,
  );
  process.exit(1);
}
