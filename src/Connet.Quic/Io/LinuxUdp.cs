using System.Runtime.InteropServices;

namespace Connet.Quic.Io;

/// <summary>
/// The few Linux socket calls .NET does not expose: <c>sendmsg</c> with a per-call UDP_SEGMENT (GSO) control message,
/// and <c>recvmsg</c> reading the UDP_GRO segment size. Layouts are those of 64-bit Linux (glibc and musl agree).
/// </summary>
internal static unsafe partial class LinuxUdp
{
    public const int SolUdp = 17;
    public const int UdpSegment = 103;
    public const int UdpGro = 104;

    /// <summary>The kernel refuses a GSO send of more segments than this (UDP_MAX_SEGMENTS on older kernels).</summary>
    public const int MaxSegments = 64;

    public const int ErrorAgain = 11;
    public const int ErrorInterrupted = 4;

    /// <summary>CMSG_SPACE for an int payload: enough for either control message we use.</summary>
    public const int ControlSpace = 24;

    private const int ControlHeaderLength = 16;
    private const int DontWait = 0x40;

    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && IntPtr.Size == 8;

    /// <summary>
    /// Sends <paramref name="datagrams"/> as one call: with <paramref name="segmentSize"/> &gt; 0 the kernel cuts it into
    /// datagrams of that size (the last may be shorter). Returns 0 or the errno.
    /// </summary>
    public static int SendSegmented(SafeHandle socket, ReadOnlySpan<byte> datagrams, ReadOnlySpan<byte> address, int segmentSize)
    {
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            byte* control = stackalloc byte[ControlSpace];
            fixed (byte* data = datagrams)
            fixed (byte* name = address)
            {
                var vector = new IoVector { Base = data, Length = (nuint)datagrams.Length };
                var message = new MessageHeader
                {
                    Name = name,
                    NameLength = (uint)address.Length,
                    Vectors = &vector,
                    VectorCount = 1,
                };
                if (segmentSize > 0)
                {
                    new Span<byte>(control, ControlSpace).Clear();
                    var header = (ControlHeader*)control;
                    header->Length = ControlHeaderLength + sizeof(ushort);
                    header->Level = SolUdp;
                    header->Type = UdpSegment;
                    *(ushort*)(control + ControlHeaderLength) = (ushort)segmentSize;
                    message.Control = control;
                    message.ControlLength = ControlSpace;
                }

                while (true)
                {
                    nint sent = SendMessage(socket.DangerousGetHandle(), &message, 0);
                    if (sent >= 0)
                    {
                        return 0;
                    }

                    int error = Marshal.GetLastPInvokeError();
                    if (error != ErrorInterrupted)
                    {
                        return error;
                    }
                }
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Receives into <paramref name="buffer"/>, filling <paramref name="address"/> (a native sockaddr) with the sender.
    /// Returns the byte count (or −errno); <paramref name="segmentSize"/> is the GRO segment size, or 0 for one datagram.
    /// Without <paramref name="wait"/> an empty queue returns −EAGAIN at once.
    /// </summary>
    public static int Receive(SafeHandle socket, Span<byte> buffer, Span<byte> address, out int addressLength, out int segmentSize, bool wait)
    {
        bool added = false;
        addressLength = 0;
        segmentSize = 0;
        try
        {
            socket.DangerousAddRef(ref added);
            byte* control = stackalloc byte[ControlSpace * 2];
            fixed (byte* data = buffer)
            fixed (byte* name = address)
            {
                var vector = new IoVector { Base = data, Length = (nuint)buffer.Length };
                var message = new MessageHeader
                {
                    Name = name,
                    NameLength = (uint)address.Length,
                    Vectors = &vector,
                    VectorCount = 1,
                    Control = control,
                    ControlLength = ControlSpace * 2,
                };
                nint received = ReceiveMessage(socket.DangerousGetHandle(), &message, wait ? 0 : DontWait);
                if (received < 0)
                {
                    return -Marshal.GetLastPInvokeError();
                }

                addressLength = (int)message.NameLength;
                byte* end = control + (int)message.ControlLength;
                for (byte* cursor = control; cursor + ControlHeaderLength <= end;)
                {
                    var header = (ControlHeader*)cursor;
                    if (header->Length < ControlHeaderLength)
                    {
                        break;
                    }

                    if (header->Level == SolUdp && header->Type == UdpGro)
                    {
                        segmentSize = *(int*)(cursor + ControlHeaderLength);
                    }

                    cursor += (int)((header->Length + 7) & ~(nuint)7);
                }

                return (int)received;
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMessage(nint socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint ReceiveMessage(nint socket, MessageHeader* message, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public byte* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ControlHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }
}
