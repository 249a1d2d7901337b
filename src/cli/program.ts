/**
 * The command line: commander parses, each command is a function of its options and the injected IO that
 * returns an exit code (0 ok, 1 bad input or failed check, 2 usage error). Nothing here calls process.exit.
 */
import { Command, CommanderError, Option } from 'commander';
import { runCheck } from './check.js';
import { runCompile } from './compile.js';
import { runTestFlows } from './test-flows.js';
import { describeTraceOptions, runTrace } from './trace.js';
import { registerExercises } from './exercises.js';
import { addDoctorOptions, runDoctor } from './doctor.js';
import { describeDiffOptions, runDiff } from './diff.js';
import { collectTrace, runReport } from './report.js';
import { describeLabOptions, runLabCommand } from './lab.js';
import type { CliIO } from './io.js';
import { VERSION } from '../version.js';

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command('kproxy')
    .description('kube-proxy in the open: compile Services into netfilter rules, trace packets through them')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  const compile = program
    .command('compile')
    .description('print the rules kube-proxy would write on a node for these manifests')
    .argument('[inputs...]', 'manifest files or folders (YAML/JSON; folders are read recursively), - for stdin')
    .addOption(
      new Option('--format <format>', 'iptables: save (default), restore, json; nftables: nft (default), dump, json; both: dot, mermaid (chain graph)')
        .choices(['save', 'restore', 'json', 'nft', 'dump', 'dot', 'mermaid']),
    )
    .option('--canonical', "sort as kube-proxy's tests compare (iptables restore payload, nftables dump)")
    .addOption(new Option('--mode <mode>', 'proxy mode').choices(['iptables', 'nftables']).default('iptables'))
    .addOption(new Option('--backend <backend>', 'iptables-save flavour for --format save').choices(['legacy', 'nft']).default('nft'))
    .option('--node-config <file>', "node settings (conformance config.yaml format); a folder's node.yaml is used by default")
    .option('--verbose', 'also say what was skipped and why')
    .option('--previous <file>', "the node's iptables-save before this sync: the restore payload deletes its stale service chains")
    .option('--partial', 'with --previous: a partial sync, leaving out the chains of Services the node already has as they should be');
  addNodeFlags(compile).action(async (inputs: string[], options) => setExit(await runCompile(inputs, options, io)));

  program
    .command('check')
    .description("run kube-proxy's consistency check (jumps to missing or empty chains, unused chains) on a payload")
    .argument('<file>', 'iptables-restore payload or iptables-save dump, - for stdin')
    .action(async (file: string) => setExit(await runCheck(file, io)));

  const trace = program
    .command('trace')
    .description('walk a packet (or flows, or sampled connections) through the rules and explain every hop')
    .argument('[inputs...]', 'manifest files or folders, - for stdin (or use --rules)');
  for (const [flags, description] of describeTraceOptions()) trace.option(flags, description);
  addNodeFlags(trace).action(async (inputs: string[], options) => setExit(await runTrace(inputs, options, io)));

  const test = program
    .command('test')
    .description("check a flow table (kube-proxy's flows.yaml format) against the rules: pass/fail per flow")
    .argument('<flows>', 'flows.yaml: name, sourceIP, destIP, destPort, protocol, output, masq')
    .argument('[inputs...]', 'manifest files or folders (or use --rules)')
    .option('--rules <file>', 'check against an iptables-save dump or restore payload')
    .option('--mode <mode>', 'iptables (default) or nftables')
    .option('--node-config <file>', "node settings; a folder's node.yaml is used by default");
  addNodeFlags(test).action(async (flows: string, inputs: string[], options) =>
    setExit(await runTestFlows(flows, inputs, options, io)),
  );

  registerExercises(program, io, setExit);

  const doctor = program
    .command('doctor')
    .description('say what makes each Service not work (or work unexpectedly), with file:line; exit 1 when one is broken')
    .argument('[inputs...]', 'manifest files or folders, or a kubectl get -o yaml dump; - for stdin');
  addNodeFlags(addDoctorOptions(doctor)).action(async (inputs: string[], options) => setExit(await runDoctor(inputs, options, io)));

  const diff = program
    .command('diff')
    .description('which packets change fate between two states of a node (manifests or rule dumps), and the rule changes')
    .argument('[inputs...]', 'old and new: manifest files or folders, or rule dumps (- for stdin)');
  for (const [flags, description] of describeDiffOptions()) diff.option(flags, description);
  addNodeFlags(diff).action(async (inputs: string[], options) => setExit(await runDiff(inputs, options, io)));

  const report = program
    .command('report')
    .description('write one self-contained HTML page (no network): the Services, the chain graph, traces of some packets, the rules')
    .argument('<inputs...>', 'manifest files or folders, - for stdin')
    .requiredOption('--html <file>', 'the page to write (- for standard output)')
    .option('--trace <packet>', '"src,dst,dport,proto" to trace (src, dport, proto may be empty; repeatable; default: for the first 8 Services, each port from a pod and a ping to the ClusterIP)', collectTrace)
    .addOption(new Option('--mode <mode>', 'proxy mode').choices(['iptables', 'nftables']).default('iptables'))
    .option('--node-config <file>', "node settings; a folder's node.yaml is used by default");
  addNodeFlags(report).action(async (inputs: string[], options) => setExit(await runReport(inputs, options, io)));

  const lab = program
    .command('lab')
    .description('the real kernel as referee: build namespaces, load the rules, send the flows, compare with trace (needs root; exit 1 on any disagreement)')
    .argument('[inputs...]', 'manifest files or folders');
  for (const [flags, description] of describeLabOptions()) lab.option(flags, description);
  addNodeFlags(lab).action(async (inputs: string[], options) => setExit(await runLabCommand(inputs, options, io)));

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? 0 : 2;
    }
    throw error;
  }
  return exitCode;
}

/** The node flags every command that compiles manifests accepts. */
function addNodeFlags(command: Command): Command {
  return command
    .option('--config <file>', 'a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1)')
    .option('--node-name <name>', 'node kube-proxy runs on (endpoints with this nodeName are local)')
    .option('--node-ip <ip>', "the node's primary IP")
    .option('--cluster-cidr <cidr>', 'pod CIDR of the cluster (local-traffic detection)')
    .option('--masquerade-all', 'masquerade all traffic to ClusterIPs')
    .option('--nodeport-addresses <cidrs>', 'comma-separated CIDRs of node addresses that accept NodePorts')
    .hook('preAction', (_command, action) => {
      // commander calls `--node-ip` nodeIp; the node settings (NodeFlags) spell it as kube-proxy does.
      for (const [given, flag] of NODE_FLAG_NAMES) {
        const value: unknown = action.getOptionValue(given);
        if (value !== undefined) action.setOptionValue(flag, value);
      }
    });
}

/** commander's attribute name → NodeFlags field, where they differ. */
const NODE_FLAG_NAMES: ReadonlyArray<[string, string]> = [
  ['nodeIp', 'nodeIP'],
  ['clusterCidr', 'clusterCIDR'],
  ['nodeportAddresses', 'nodePortAddresses'],
];
