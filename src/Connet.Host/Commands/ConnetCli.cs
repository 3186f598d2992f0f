using System.CommandLine;
using System.Reflection;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Connet.Host.Configuration;
using Connet.Host.Hosting;

namespace Connet.Host.Commands;

/// <summary>
/// The <c>connet</c> command line: the client (root command), <c>server</c>, <c>control</c>, <c>relay</c>,
/// <c>check</c>, <c>gen-key</c>, <c>version</c> and <c>demo</c>. Exit codes: 0 ok, 1 runtime failure, 2 bad
/// configuration or usage.
/// </summary>
internal static class ConnetCli
{
    /// <summary>Parses <paramref name="args"/> and runs the command, writing to <paramref name="stdout"/>/<paramref name="stderr"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, ConfigContext context, CancellationToken cancellationToken = default)
    {
        var root = Build(stdout, stderr, context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"connet: {error.Message}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'connet --help' for usage.").ConfigureAwait(false);
            return HostRunner.ExitBadConfiguration;
        }

        try
        {
            return await parse.InvokeAsync(
                new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ConfigException exception)
        {
            foreach (var error in exception.Errors)
            {
                await stderr.WriteLineAsync(error).ConfigureAwait(false);
            }

            return HostRunner.ExitBadConfiguration;
        }
    }

    public static RootCommand Build(TextWriter stdout, TextWriter stderr, ConfigContext context)
    {
        var root = new RootCommand("connet: a peer-to-peer reverse proxy. Without a subcommand, runs a client.");
        var common = new CommonOptions();
        root.Options.Add(common.Config);
        root.Options.Add(common.LogLevel);
        root.Options.Add(common.LogFormat);
        ClientCommand.Configure(root, common, stderr, context);
        root.Subcommands.Add(ServerCommands.Server(common, stderr, context));
        root.Subcommands.Add(ServerCommands.Control(common, stderr, context));
        root.Subcommands.Add(ServerCommands.Relay(common, stderr, context));
        root.Subcommands.Add(Check(common, stdout, stderr, context));
        root.Subcommands.Add(GenKey(stdout));
        root.Subcommands.Add(Version(stdout));
        root.Subcommands.Add(DemoCommand.Create(common, stdout, stderr));
        return root;
    }

    /// <summary>The informational version of this build ("0.1.0+commit").</summary>
    public static string VersionText =>
        typeof(ConnetCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ConnetCli).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>Loads files + overlay and reads the root keys; throws <see cref="ConfigException"/> with every error.</summary>
    public static (ConfigTable Table, RootSettings Root, ConfigErrors Errors) LoadConfig(ParseResult parse, CommonOptions common, ConnetConfig.Overlay overlay)
    {
        var errors = new ConfigErrors();
        var table = ConnetConfig.Load(common.ConfigFiles(parse), overlay.Root, errors);
        errors.ThrowIfAny();
        var root = ConnetConfig.ReadRoot(table, errors);
        return (table, root, errors);
    }

    private static Command Check(CommonOptions common, TextWriter stdout, TextWriter stderr, ConfigContext context)
    {
        var files = new Argument<string[]>("file") { Description = "TOML files to check, merged in order", Arity = ArgumentArity.OneOrMore };
        var command = new Command("check", "Parse and validate configuration files (no network, no files written); prints \"ok\" or every error");
        command.Arguments.Add(files);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var all = common.ConfigFiles(parse).Concat(parse.GetValue(files) ?? []).ToList();
            var errors = ConnetConfig.Check(all, context);
            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    await stderr.WriteLineAsync(error).ConfigureAwait(false);
                }

                return HostRunner.ExitBadConfiguration;
            }

            await stdout.WriteLineAsync("ok").ConfigureAwait(false);
            return HostRunner.ExitOk;
        });
        return command;
    }

    private static Command GenKey(TextWriter stdout)
    {
        var command = new Command("gen-key", "Print a new ed25519 seed and its public key in lowercase base32hex, as Go connet does (the 32-byte seed also serves as a direct-stateless-reset-key)");
        command.SetAction(async (parse, cancellationToken) =>
        {
            byte[] seed = RandomNumberGenerator.GetBytes(Ed25519PrivateKeyParameters.KeySize);
            byte[] publicKey = new Ed25519PrivateKeyParameters(seed).GeneratePublicKey().GetEncoded();
            await stdout.WriteLineAsync($"seed: {GoFormats.EncodeBase32Hex(seed)}").ConfigureAwait(false);
            await stdout.WriteLineAsync($"public: {GoFormats.EncodeBase32Hex(publicKey)}").ConfigureAwait(false);
            return HostRunner.ExitOk;
        });
        return command;
    }

    private static Command Version(TextWriter stdout)
    {
        var command = new Command("version", "Print the version");
        command.SetAction(async (parse, cancellationToken) =>
        {
            await stdout.WriteLineAsync($"connet {VersionText}").ConfigureAwait(false);
            return HostRunner.ExitOk;
        });
        return command;
    }
}
