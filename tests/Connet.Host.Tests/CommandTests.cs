using Connet.Host.Configuration;

namespace Connet.Host.Tests;

public sealed class CommandTests
{
    [Fact]
    public async Task CheckPrintsOkForAValidFileAndExitsZero()
    {
        using var directory = new TempDirectory();
        string file = directory.Write("client.toml", "[client]\ntoken = \"t\"\n[client.sources.web]\nurl = \"tcp://:8000\"\n");

        var (exitCode, stdout, stderr) = await HostTestKit.RunCliAsync(HostTestKit.Context(), "check", file);

        Assert.Equal(0, exitCode);
        Assert.Equal("ok", stdout.Trim());
        Assert.Empty(stderr);
    }

    [Fact]
    public async Task CheckReportsEveryErrorOfEverySectionAndExitsTwo()
    {
        using var directory = new TempDirectory();
        string client = directory.Write("client.toml", "[client]\ntoken = \"t\"\nurll = 1\n[client.sources.web]\nurl = \"ftp://:8000\"\n");
        string server = directory.Write("server.toml", "[server]\ntokens = [\"a\"]\n");

        var (exitCode, stdout, stderr) = await HostTestKit.RunCliAsync(HostTestKit.Context(("CONNET_STATE_DIR", directory.Path)), "check", client, server);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"{client}:3: [client] unknown key 'urll'", lines);
        Assert.Contains($"{client}:5: [client.sources.web] 'url' 'ftp://:8000' is not a source URL (tcp://, tls://, http://, https://, ws:// or wss://).", lines);
        Assert.Contains($"{server}:1: [server] at least one [[server.ingress]] with cert-file and key-file is required", lines);
    }

    [Fact]
    public async Task CheckOfAMissingOrEmptyFileFails()
    {
        using var directory = new TempDirectory();
        string empty = directory.Write("empty.toml", "# nothing\n");

        var missing = await HostTestKit.RunCliAsync(HostTestKit.Context(), "check", Path.Combine(directory.Path, "missing.toml"));
        var nothing = await HostTestKit.RunCliAsync(HostTestKit.Context(), "check", empty);
        var noArgument = await HostTestKit.RunCliAsync(HostTestKit.Context(), "check");

        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("missing.toml: file not found", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("no [client], [server], [control] or [relay] section", nothing.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, noArgument.ExitCode);
    }

    [Fact]
    public async Task GenKeyPrintsAnEd25519SeedAndItsPublicKeyInLowercaseBase32Hex()
    {
        var first = await HostTestKit.RunCliAsync(HostTestKit.Context(), "gen-key");
        var second = await HostTestKit.RunCliAsync(HostTestKit.Context(), "gen-key");

        Assert.Equal(0, first.ExitCode);
        string[] lines = first.Stdout.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        string key = Assert.Single(lines, line => line.StartsWith("seed: ", StringComparison.Ordinal))["seed: ".Length..].Trim();
        string publicKey = Assert.Single(lines, line => line.StartsWith("public: ", StringComparison.Ordinal))["public: ".Length..].Trim();
        Assert.Matches("^[0-9a-v]{52}$", key);
        Assert.Equal(32, GoFormats.DecodeBase32Hex(key)!.Length);
        byte[] derived = new Org.BouncyCastle.Crypto.Parameters.Ed25519PrivateKeyParameters(GoFormats.DecodeBase32Hex(key)).GeneratePublicKey().GetEncoded();
        Assert.Equal(derived, GoFormats.DecodeBase32Hex(publicKey));
        Assert.NotEqual(first.Stdout, second.Stdout);

        // The key is accepted where it is meant to go.
        var (settings, errors) = HostTestKit.ReadSection<ClientSettings>(
            $"[client]\ntoken = \"t\"\ndirect-stateless-reset-key = \"{key}\"\n[client.sources.s]\nurl = \"tcp://:1\"\n", "client", HostTestKit.Context());
        Assert.Empty(errors);
        Assert.Equal(GoFormats.DecodeBase32Hex(key), settings!.StatelessResetKey);
    }

    [Fact]
    public void Base32HexMatchesRfc4648Vectors()
    {
        // RFC 4648 §10 base32hex vectors, lowercased and without padding.
        Assert.Equal("cpng", GoFormats.EncodeBase32Hex("fo"u8));
        Assert.Equal("cpnmu", GoFormats.EncodeBase32Hex("foo"u8));
        Assert.Equal("cpnmuog", GoFormats.EncodeBase32Hex("foob"u8));
        Assert.Equal("cpnmuoj1e8", GoFormats.EncodeBase32Hex("foobar"u8));
        Assert.Equal("foobar"u8.ToArray(), GoFormats.DecodeBase32Hex("CPNMUOJ1E8"));
        Assert.Null(GoFormats.DecodeBase32Hex("cpnw"));
    }

    [Theory]
    [InlineData("5s", 5_000)]
    [InlineData("250ms", 250)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("0", 0)]
    [InlineData("100us", 0.1)]
    public void GoDurationsParse(string text, double milliseconds)
    {
        Assert.True(GoFormats.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("5 s")]
    [InlineData("s")]
    [InlineData("1d")]
    [InlineData("")]
    [InlineData("1..5s")]
    public void BadGoDurationsDoNotParse(string text) => Assert.False(GoFormats.TryParseDuration(text, out _));

    [Fact]
    public async Task VersionPrintsTheVersion()
    {
        var (exitCode, stdout, _) = await HostTestKit.RunCliAsync(HostTestKit.Context(), "version");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"^connet \d+\.\d+\.\d+", stdout.Trim());
    }

    [Fact]
    public async Task UsageErrorsAndBadConfigurationExitTwo()
    {
        var unknownFlag = await HostTestKit.RunCliAsync(HostTestKit.Context(), "--no-such-flag");
        var noToken = await HostTestKit.RunCliAsync(HostTestKit.Context(), "--src-name", "web", "--src-url", "tcp://:1");

        Assert.Equal(2, unknownFlag.ExitCode);
        Assert.Contains("--no-such-flag", unknownFlag.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, noToken.ExitCode);
        Assert.Contains("a token is required", noToken.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARuntimeFailureExitsOne()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        using var occupied = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int port = ((System.Net.IPEndPoint)occupied.Client.LocalEndPoint!).Port;

        var (exitCode, _, stderr) = await HostTestKit.RunCliAsync(HostTestKit.Context(), "control", "--log-level", "error",
            "--clients-tokens", "t", "--clients-addr", $"127.0.0.1:{port}", "--clients-cert-file", certFile, "--clients-key-file", keyFile,
            "--store-dir", Path.Combine(directory.Path, "state"));

        Assert.Equal(1, exitCode);
        Assert.StartsWith("connet: ", stderr, StringComparison.Ordinal);
    }
}
