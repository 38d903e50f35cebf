import { crashSuite } from "./suite.js";

// Redis without persistence (as tests usually run it), killed -9 at each step and back empty under a running hub.
crashSuite("redis-volatile");
