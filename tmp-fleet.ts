import { startRealFleet } from "./bench/real-fleet.ts";
const fleet = await startRealFleet(50, (i) => `h${i}`);
console.log(JSON.stringify(fleet.flags));
process.on("SIGTERM", async () => { await fleet.stop(); process.exit(0); });
setInterval(() => {}, 1000);
