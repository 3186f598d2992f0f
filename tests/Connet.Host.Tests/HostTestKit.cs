using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Host.Commands;
using Connet.Host.Configuration;

namespace Connet.Host.Tests;

/// <summary>A temporary directory of configuration files, certificates and state, deleted at the end.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "connet-host-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string content)
    {
        string file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, content);
        return file;
    }

    /// <summary>Writes cert.pem and key.pem: a self-signed certificate for localhost and 127.0.0.1.</summary>
    public (string CertFile, string KeyFile) WriteCertificate(string prefix = "")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string certFile = Write(prefix + "cert.pem", certificate.ExportCertificatePem());
        string keyFile = Write(prefix + "key.pem", key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class HostTestKit
{
    /// <summary>A context with only <paramref name="variables"/> as environment (the real one never leaks in).</summary>
    public static ConfigContext Context(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(variable => variable.Name, variable => variable.Value);
        return new ConfigContext(name => map.GetValueOrDefault(name));
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(ConfigContext context, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = await ConnetCli.RunAsync(args, stdout, stderr, context);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    public static ClientSettings LoadClient(ConfigContext context, params string[] args) => ClientCommand.LoadForTest(args, context).Client;

    /// <summary>The errors loading a client reports (empty when it loads).</summary>
    public static IReadOnlyList<string> ClientErrors(ConfigContext context, params string[] args)
    {
        try
        {
            ClientCommand.LoadForTest(args, context);
            return [];
        }
        catch (ConfigException exception)
        {
            return exception.Errors;
        }
    }

    /// <summary>Reads one section of one TOML text the way its command does; returns the settings and every error.</summary>
    public static (T? Settings, IReadOnlyList<string> Errors) ReadSection<T>(string toml, string section, ConfigContext context, string source = "test.toml")
        where T : class
    {
        var errors = new ConfigErrors();
        var table = ConfigTree.Parse(toml, source, errors);
        if (table is null)
        {
            return (null, errors.Messages);
        }

        ConnetConfig.ReadRoot(table, errors);
        var reader = ConnetConfig.Section(table, section, errors);
        object settings = section switch
        {
            "client" => ClientConfig.Read(reader, context),
            "server" => ServerConfigs.ReadServer(reader, context),
            "control" => ServerConfigs.ReadControl(reader, context),
            _ => ServerConfigs.ReadRelay(reader, context),
        };
        return ((T)settings, errors.Messages);
    }
}
