import { crashSuite } from "./suite.js";

// Redis with an append-only file fsynced on every write, killed -9 together with the hub.
crashSuite("redis");
