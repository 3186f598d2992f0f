using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.NatLab.Tests;

[CollectionDefinition(Name)]
public sealed class NatLabGroup : ICollectionFixture<NatLabFixture>
{
    public const string Name = "NAT lab";
}

/// <summary>
/// One lab for the whole run: the namespaces, and <c>connet server</c> (control on 198.18.0.1:19190, relay on
/// 198.18.0.1:19191) in the internet namespace with one destination and one source token per matrix cell. On dispose
/// writes the matrix table measured so far into docs/nat-traversal.md, stops the server and removes the lab.
/// </summary>
public sealed class NatLabFixture : IDisposable
{
    public const int ControlPort = 19190;
    public const int RelayPort = 19191;
    public const int MaxCells = 16;

    private readonly LabProcess? _server;

    public NatLabFixture()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("the NAT lab needs root (network namespaces and nftables); run the tests as root, e.g. through scripts/test.sh");
        }

        Directory = Path.Combine(Path.GetTempPath(), "connet-natlab-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Lab = NatLab.Create(NatKind.PortRestricted, NatKind.PortRestricted);
        try
        {
            WriteCertificate();
            string tokens = string.Join(", ", Enumerable.Range(0, MaxCells).SelectMany(cell => new[] { $"\"{DestinationToken(cell)}\"", $"\"{SourceToken(cell)}\"" }));
            File.WriteAllText(Path.Combine(Directory, "server.toml"), string.Create(CultureInfo.InvariantCulture, $"""
                [server]
                tokens = [{tokens}]
                store-dir = "{Directory}/server-state"

                [[server.ingress]]
                addr = "{NatLab.ServerAddress}:{ControlPort}"
                cert-file = "cert.pem"
                key-file = "key.pem"

                [[server.relay-ingress]]
                addr = ":{RelayPort}"
                hostports = ["{NatLab.ServerAddress}:{RelayPort}"]
                """));
            // The relay ingress binds the wildcard: server mode's relay dials control over loopback from its one
            // socket, and control allows that relay token from 127.0.0.1 only, so a relay bound to 198.18.0.1 is
            // refused. Clients still dial 198.18.0.1 (hostports).
            _server = new LabProcess(Lab.Internet, Directory, "server", "--config", "server.toml");
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    public NatLab Lab { get; }

    /// <summary>A temporary directory for configurations, certificates and state; deleted on dispose.</summary>
    public string Directory { get; }

    public string CertificateFile => Path.Combine(Directory, "cert.pem");

    public MatrixReport Report { get; } = new();

    public string ServerOutput => _server?.Output ?? "";

    public static string DestinationToken(int cell) => string.Create(CultureInfo.InvariantCulture, $"destination-{cell}");

    public static string SourceToken(int cell) => string.Create(CultureInfo.InvariantCulture, $"source-{cell}");

    public void Dispose()
    {
        try
        {
            Report.WriteInto(Path.Combine(NatLab.RepositoryRoot, "docs", "nat-traversal.md"));
        }
        finally
        {
            _server?.Dispose();
            Lab.Dispose();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>cert.pem and key.pem: self-signed for the control server's address.</summary>
    private void WriteCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=natlab-control", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(NatLab.ServerAddress);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(CertificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Directory, "key.pem"), key.ExportPkcs8PrivateKeyPem());
    }
}
