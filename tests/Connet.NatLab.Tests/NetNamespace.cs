using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Connet.NatLab.Tests;

/// <summary>
/// Sockets inside a named network namespace (<c>/run/netns/NAME</c>) for this process. A socket belongs to the
/// namespace of the thread that created it, for life; so a dedicated thread enters the namespace with setns(2), creates
/// the socket and ends, and the socket is then used from anywhere like any other.
/// </summary>
internal static partial class NetNamespace
{
    private const int CloneNewNet = 0x40000000;

    public static Socket CreateSocket(string name, SocketType socketType, ProtocolType protocolType)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/run/netns", name));
                if (SetNamespace((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new IOException($"setns into network namespace '{name}' failed: errno {Marshal.GetLastPInvokeError()}");
                }

                socket = new Socket(AddressFamily.InterNetwork, socketType, protocolType);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or SocketException)
            {
                failure = exception;
            }
        })
        {
            IsBackground = true,
            Name = "netns " + name,
        };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"creating a socket in network namespace '{name}' did not finish");
        }

        return socket ?? throw new IOException($"no socket in network namespace '{name}': {failure?.Message}", failure);
    }

    public static Socket Udp(string name) => CreateSocket(name, SocketType.Dgram, ProtocolType.Udp);

    public static Socket Tcp(string name) => CreateSocket(name, SocketType.Stream, ProtocolType.Tcp);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(int fd, int nstype);
}
