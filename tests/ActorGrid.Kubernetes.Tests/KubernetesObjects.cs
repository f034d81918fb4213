using YamlDotNet.Serialization;

namespace ActorGrid.Kubernetes.Tests;

// The parts of the Kubernetes API objects that the specs read, deserialised from `kubectl kustomize` output.
// Fields the specs do not need are ignored; absent fields keep their defaults.

public class KubeObject
{
    public string ApiVersion { get; set; } = "";

    public string Kind { get; set; } = "";

    public ObjectMeta Metadata { get; set; } = new();
}

public sealed class ObjectMeta
{
    public string Name { get; set; } = "";

    public Dictionary<string, string> Labels { get; set; } = [];

    public Dictionary<string, string> Annotations { get; set; } = [];
}

public sealed class Service : KubeObject
{
    public ServiceSpec Spec { get; set; } = new();
}

public sealed class ServiceSpec
{
    [YamlMember(Alias = "clusterIP")]
    public string? ClusterIp { get; set; }

    public bool PublishNotReadyAddresses { get; set; }

    public Dictionary<string, string> Selector { get; set; } = [];

    public List<ServicePort> Ports { get; set; } = [];
}

public sealed class ServicePort
{
    public string Name { get; set; } = "";

    public int Port { get; set; }

    /// <summary>A port number or the name of a container port; absent means the same as <see cref="Port"/>.</summary>
    public string? TargetPort { get; set; }
}

public sealed class StatefulSet : KubeObject
{
    public StatefulSetSpec Spec { get; set; } = new();
}

public sealed class StatefulSetSpec
{
    public string ServiceName { get; set; } = "";

    public int Replicas { get; set; } = 1;

    public string? PodManagementPolicy { get; set; }

    public LabelSelector Selector { get; set; } = new();

    public PodTemplate Template { get; set; } = new();
}

public sealed class LabelSelector
{
    public Dictionary<string, string> MatchLabels { get; set; } = [];
}

public sealed class PodTemplate
{
    public ObjectMeta Metadata { get; set; } = new();

    public PodSpec Spec { get; set; } = new();
}

public sealed class PodSpec
{
    public long? TerminationGracePeriodSeconds { get; set; }

    public SecurityContext? SecurityContext { get; set; }

    public List<Container> Containers { get; set; } = [];
}

public sealed class Container
{
    public string Name { get; set; } = "";

    public string Image { get; set; } = "";

    public List<ContainerPortSpec> Ports { get; set; } = [];

    public List<EnvVar> Env { get; set; } = [];

    public Lifecycle? Lifecycle { get; set; }

    public Probe? StartupProbe { get; set; }

    public Probe? LivenessProbe { get; set; }

    public Probe? ReadinessProbe { get; set; }

    public ResourceRequirements Resources { get; set; } = new();

    public SecurityContext? SecurityContext { get; set; }

    public List<VolumeMount> VolumeMounts { get; set; } = [];
}

public sealed class ContainerPortSpec
{
    public string Name { get; set; } = "";

    public int ContainerPort { get; set; }
}

public sealed class EnvVar
{
    public string Name { get; set; } = "";

    public string? Value { get; set; }

    public EnvVarSource? ValueFrom { get; set; }
}

public sealed class EnvVarSource
{
    public FieldRef? FieldRef { get; set; }

    public KeyRef? SecretKeyRef { get; set; }

    public KeyRef? ConfigMapKeyRef { get; set; }
}

public sealed class FieldRef
{
    public string FieldPath { get; set; } = "";
}

public sealed class KeyRef
{
    public string Name { get; set; } = "";

    public string Key { get; set; } = "";
}

public sealed class Lifecycle
{
    public LifecycleHandler? PreStop { get; set; }
}

public sealed class LifecycleHandler
{
    public ExecAction? Exec { get; set; }

    public SleepAction? Sleep { get; set; }
}

public sealed class ExecAction
{
    public List<string> Command { get; set; } = [];
}

public sealed class SleepAction
{
    public int Seconds { get; set; }
}

public sealed class Probe
{
    public HttpGetAction? HttpGet { get; set; }
}

public sealed class HttpGetAction
{
    public string Path { get; set; } = "";

    public string Port { get; set; } = "";
}

public sealed class ResourceRequirements
{
    public Dictionary<string, string> Requests { get; set; } = [];

    public Dictionary<string, string> Limits { get; set; } = [];
}

/// <summary>Pod- and container-level security settings share the fields the specs read.</summary>
public sealed class SecurityContext
{
    public bool? RunAsNonRoot { get; set; }

    public long? RunAsUser { get; set; }

    public bool? ReadOnlyRootFilesystem { get; set; }

    public bool? AllowPrivilegeEscalation { get; set; }

    public Capabilities? Capabilities { get; set; }
}

public sealed class Capabilities
{
    public List<string> Drop { get; set; } = [];
}

public sealed class VolumeMount
{
    public string Name { get; set; } = "";

    public string MountPath { get; set; } = "";
}

public sealed class Secret : KubeObject
{
    public Dictionary<string, string> Data { get; set; } = [];

    public Dictionary<string, string> StringData { get; set; } = [];
}

public sealed class PodDisruptionBudget : KubeObject
{
    public PodDisruptionBudgetSpec Spec { get; set; } = new();
}

public sealed class PodDisruptionBudgetSpec
{
    public string? MaxUnavailable { get; set; }

    public string? MinAvailable { get; set; }

    public LabelSelector Selector { get; set; } = new();
}

public sealed class NetworkPolicy : KubeObject
{
    public NetworkPolicySpec Spec { get; set; } = new();
}

public sealed class NetworkPolicySpec
{
    public LabelSelector PodSelector { get; set; } = new();

    public List<string> PolicyTypes { get; set; } = [];

    public List<NetworkPolicyIngressRule> Ingress { get; set; } = [];
}

public sealed class NetworkPolicyIngressRule
{
    /// <summary>Empty: from anywhere.</summary>
    public List<NetworkPolicyPeer> From { get; set; } = [];

    public List<NetworkPolicyPort> Ports { get; set; } = [];
}

public sealed class NetworkPolicyPeer
{
    public LabelSelector? PodSelector { get; set; }

    public LabelSelector? NamespaceSelector { get; set; }
}

public sealed class NetworkPolicyPort
{
    public string Port { get; set; } = "";
}
