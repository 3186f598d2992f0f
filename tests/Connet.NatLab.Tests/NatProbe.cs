using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Connet.NatLab.Tests;

public enum NatMapping
{
    EndpointIndependent,
    AddressAndPortDependent,
}

public enum NatFiltering
{
    EndpointIndependent,
    AddressDependent,
    AddressAndPortDependent,
}

/// <summary>What a probe observed of one router.</summary>
public sealed record NatBehaviour(NatMapping Mapping, NatFiltering Filtering, IPEndPoint FirstMapping, IPEndPoint SecondMapping)
{
    public NatKind Kind => (Mapping, Filtering) switch
    {
        (NatMapping.AddressAndPortDependent, _) => NatKind.Symmetric,
        (_, NatFiltering.EndpointIndependent) => NatKind.FullCone,
        (_, NatFiltering.AddressDependent) => NatKind.AddressRestricted,
        _ => NatKind.PortRestricted,
    };

    public override string ToString() => $"{Kind}: mapping {Mapping} ({FirstMapping} then {SecondMapping}), filtering {Filtering}";
}

/// <summary>
/// Classifies a router by what actually crosses it, from UDP sockets in its host's namespace and three observers on
/// the internet (198.18.0.2:p, 198.18.0.2:q, 198.18.0.3:p).
/// Mapping: one host socket sends to two observers at different addresses; the same public endpoint at both means
/// endpoint-independent mapping. Filtering: a fresh host socket sends to one observer only; then an observer at another
/// address, one at the same address from another port, and finally the contacted observer itself (a marker) send to
/// the public endpoint. The host reads until the marker: the two unsolicited packets went first along the same links,
/// so whichever did not arrive before the marker was filtered. No decision rests on a timeout.
/// </summary>
public static class NatProbe
{
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(5);

    public static async Task<NatBehaviour> ClassifyAsync(NatLab lab, char site, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReceiveTimeout * 3);
        var token = timeout.Token;

        using var contacted = Bound(lab.Internet, NatLab.ObserverAddress, 0);
        int observerPort = ((IPEndPoint)contacted.LocalEndPoint!).Port;
        using var samePortOtherAddress = Bound(lab.Internet, NatLab.OtherObserverAddress, observerPort);
        using var sameAddressOtherPort = Bound(lab.Internet, NatLab.ObserverAddress, 0);

        // Mapping: one host socket, two destinations at different addresses.
        IPEndPoint first, second;
        using (var host = Bound(lab.Host(site), IPAddress.Any, 0))
        {
            await host.SendToAsync(Encoding.ASCII.GetBytes("map-1"), contacted.LocalEndPoint!, token);
            first = (await ReceiveAsync(contacted, "map-1", token)).From;
            await host.SendToAsync(Encoding.ASCII.GetBytes("map-2"), samePortOtherAddress.LocalEndPoint!, token);
            second = (await ReceiveAsync(samePortOtherAddress, "map-2", token)).From;
        }

        // Filtering: a fresh host socket that contacted only one observer.
        NatFiltering filtering;
        using (var host = Bound(lab.Host(site), IPAddress.Any, 0))
        {
            await host.SendToAsync(Encoding.ASCII.GetBytes("hello"), contacted.LocalEndPoint!, token);
            var mapped = (await ReceiveAsync(contacted, "hello", token)).From;
            await samePortOtherAddress.SendToAsync(Encoding.ASCII.GetBytes("other-address"), mapped, token);
            await sameAddressOtherPort.SendToAsync(Encoding.ASCII.GetBytes("other-port"), mapped, token);
            await contacted.SendToAsync(Encoding.ASCII.GetBytes("marker"), mapped, token);

            var arrived = new HashSet<string>(StringComparer.Ordinal);
            for (int count = 0; count < 10; count++)
            {
                string text = (await ReceiveAsync(host, expected: null, token)).Text;
                if (text == "marker")
                {
                    break;
                }

                arrived.Add(text);
            }

            filtering = arrived.Contains("other-address") ? NatFiltering.EndpointIndependent
                : arrived.Contains("other-port") ? NatFiltering.AddressDependent
                : NatFiltering.AddressAndPortDependent;
        }

        var mapping = first.Equals(second) ? NatMapping.EndpointIndependent : NatMapping.AddressAndPortDependent;
        return new NatBehaviour(mapping, filtering, first, second);
    }

    private static Socket Bound(string namespaceName, IPAddress address, int port)
    {
        var socket = NetNamespace.Udp(namespaceName);
        socket.Bind(new IPEndPoint(address, port));
        return socket;
    }

    private static async Task<(string Text, IPEndPoint From)> ReceiveAsync(Socket socket, string? expected, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[256];
        for (int count = 0; count < 10; count++)
        {
            var result = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), cancellationToken);
            string text = Encoding.ASCII.GetString(buffer, 0, result.ReceivedBytes);
            if (expected is null || text == expected)
            {
                return (text, (IPEndPoint)result.RemoteEndPoint);
            }
        }

        throw new IOException($"the probe never received '{expected}'");
    }
}
