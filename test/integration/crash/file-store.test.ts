import { crashSuite } from "./suite.js";

crashSuite("file");
