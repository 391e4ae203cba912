// wire.scenarios.ts with the official `phoenix` client (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { wireScenarios } from "./wire.scenarios.js";

clientSuite("phoenix", wireScenarios);
