// longpoll.scenarios.ts with the official `phoenix` client (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { longpollScenarios } from "./longpoll.scenarios.js";

clientSuite("phoenix", longpollScenarios);
