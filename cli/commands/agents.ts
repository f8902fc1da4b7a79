/** `tooltime agents`: lists the agents a --agent spec can name, with their parameters. */
import type { Command } from 'commander';
import { agentEntries } from '../../agents/index.js';

export function registerAgents(program: Command): void {
  program
    .command('agents')
    .description('list the agents a --agent spec can name, with their parameters')
    .action(() => {
      for (const e of agentEntries()) {
        process.stdout.write(`${e.name}  (${e.kind})\n  ${e.description}\n`);
        for (const p of e.params)
          process.stdout.write(
            `    ${p.name}=${p.kind}  ${p.help} (default: ${p.default === null ? 'unset' : String(p.default)})\n`,
          );
      }
      process.stdout.write(
        'openai:MODEL  (model)\n  a model behind any OpenAI-compatible API (OpenAI, vLLM, Ollama, llama.cpp, OpenRouter); configured by the run flags --base-url, --temperature, --think...\n',
      );
      process.stdout.write(
        '\nSpec syntax: NAME or NAME:key=value,key=value (for example greedy-async:maxInFlight=2,thinkMs=200)\n',
      );
    });
}
