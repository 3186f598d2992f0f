using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Net;
using Connet.Core.Protocol;
using Connet.Core.Restrictions;

namespace Connet.Relay;

/// <summary>Settings of a <see cref="RelayServer"/> (the <c>[relay]</c> section of Go connet's configuration).</summary>
public sealed class RelayServerOptions
{
    public const string DefaultControlAddress = "localhost:19189";

    /// <summary>At most this many hostports in all, as control accepts no more in one AuthenticateReq.</summary>
    public const int MaxHostports = 16;

    /// <summary>The relay token the control server authenticates.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>Free text control shows for this relay and passes to clients.</summary>
    public string Metadata { get; set; } = string.Empty;

    /// <summary>Where clients connect; at least one. The first one's socket also dials control.</summary>
    public List<RelayIngress> Ingresses { get; set; } = [];

    /// <summary>The control server's relay ingress, <c>host:port</c>.</summary>
    public string ControlAddress { get; set; } = DefaultControlAddress;

    /// <summary>The name control's certificate must carry (and the SNI); defaults to the host of <see cref="ControlAddress"/>.</summary>
    public string? ControlServerName { get; set; }

    /// <summary>
    /// Certificates trusted for the control server: a presented certificate equal to one of them is accepted (pinning),
    /// otherwise its chain must end in one of them and it must carry the server name. Empty: the system trust store.
    /// </summary>
    public X509Certificate2Collection ControlCertificateAuthorities { get; set; } = [];

    /// <summary>How long a QUIC handshake (to control, or from a client) may stay idle; quic-go's default 5 s.</summary>
    public TimeSpan HandshakeIdleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where the relay keeps its control ID, reconnect token and stateless reset key (SQLite <c>relay.db</c>), so
    /// a restarted relay keeps its relay ID and refuses a different control server. Null keeps them in memory.
    /// </summary>
    public string? StoreDirectory { get; set; }

    /// <summary>The clock for backoff and certificate validity; null uses the constructor's, else <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Every problem with these options (empty when valid), so a misconfiguration is reported in one go.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Token))
        {
            errors.Add("Token is required.");
        }

        if (Metadata is null)
        {
            errors.Add("Metadata must not be null (leave it empty for none).");
        }

        if (!HostPorts.TryParse(ControlAddress, out _, out _))
        {
            errors.Add($"ControlAddress '{ControlAddress}' is not host:port.");
        }

        if (ControlServerName is not null && string.IsNullOrWhiteSpace(ControlServerName))
        {
            errors.Add("ControlServerName must not be blank (leave it null for the host of ControlAddress).");
        }

        if (ControlCertificateAuthorities is null)
        {
            errors.Add("ControlCertificateAuthorities must not be null (leave it empty for the system trust store).");
        }

        if (HandshakeIdleTimeout <= TimeSpan.Zero || HandshakeIdleTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"HandshakeIdleTimeout {HandshakeIdleTimeout} must be more than zero and at most 5 minutes.");
        }

        if (StoreDirectory is not null && string.IsNullOrWhiteSpace(StoreDirectory))
        {
            errors.Add("StoreDirectory must not be blank (leave it null to keep state in memory).");
        }

        ValidateIngresses(errors);
        return errors;
    }

    internal (string Host, int Port) ParseControlAddress() =>
        HostPorts.TryParse(ControlAddress, out var host, out var port) ? (host, port) : throw new FormatException($"ControlAddress '{ControlAddress}' is not host:port.");

    internal string EffectiveControlServerName => string.IsNullOrEmpty(ControlServerName) ? ParseControlAddress().Host : ControlServerName;

    private void ValidateIngresses(List<string> errors)
    {
        if (Ingresses is null || Ingresses.Count == 0)
        {
            errors.Add("At least one ingress is required.");
            return;
        }

        int hostports = 0;
        for (int index = 0; index < Ingresses.Count; index++)
        {
            var ingress = Ingresses[index];
            string name = $"Ingresses[{index}]";
            if (ingress is null)
            {
                errors.Add($"{name} is null.");
                continue;
            }

            if (ingress.Address is null)
            {
                errors.Add($"{name}.Address is required.");
            }

            if (ingress.Hostports is null)
            {
                errors.Add($"{name}.Hostports must not be null (leave it empty for localhost:<bound port>).");
            }
            else
            {
                // An empty list becomes one localhost hostport at start.
                hostports += Math.Max(1, ingress.Hostports.Count);
                foreach (var hostport in ingress.Hostports)
                {
                    if (!HostPorts.TryParse(hostport, out _, out _))
                    {
                        errors.Add($"{name}.Hostports: '{hostport}' is not host:port.");
                    }
                }
            }

            try
            {
                IPRestriction.Parse(ingress.AllowCidrs, ingress.DenyCidrs);
            }
            catch (FormatException exception)
            {
                errors.Add($"{name}: {exception.Message}");
            }
        }

        if (hostports > MaxHostports)
        {
            errors.Add($"The ingresses give {hostports} hostports; at most {MaxHostports} are sent to control.");
        }
    }
}

/// <summary>One <c>[[ingress]]</c> of the relay: where clients connect, what they are told to dial, from which addresses.</summary>
public sealed class RelayIngress
{
    /// <summary>The UDP address to listen on; defaults to all IPv4 interfaces on port 19191.</summary>
    public IPEndPoint Address { get; set; } = new(IPAddress.Any, ConnetAlpns.DefaultRelayPort);

    /// <summary>What clients dial to reach this ingress, <c>host:port</c>; empty: <c>localhost:&lt;bound port&gt;</c>.</summary>
    public List<string> Hostports { get; set; } = [];

    /// <summary>CIDRs allowed to connect; empty allows every address not denied.</summary>
    public List<string> AllowCidrs { get; set; } = [];

    /// <summary>CIDRs refused before the QUIC handshake.</summary>
    public List<string> DenyCidrs { get; set; } = [];
}
