# Sourced by jobs/submit.sh and jobs/submit_sweep.sh: fits <script> [sbatch options...] checks
# that the tasks the job asks for (--ntasks/-n of the options, else the script's #SBATCH
# --ntasks) fit in its partition (--partition/-p of the options, else SBATCH_PARTITION, else
# the default one). Slurm accepts a larger request and leaves it pending forever (squeue:
# "(PartitionConfig)"); here it is refused at once (exit 2) with the sizes. Nothing is checked
# where sinfo cannot reach a cluster.
fits() {
  local script=$1 tasks= part=${SBATCH_PARTITION:-} line cpus name best=0 best_name=
  shift
  while (($#)); do
    case $1 in
      --ntasks=*) tasks=${1#*=} ;;
      --ntasks | -n) tasks=${2:-}; shift ;;
      -n*) tasks=${1#-n} ;;
      --partition=*) part=${1#*=} ;;
      --partition | -p) part=${2:-}; shift ;;
      -p*) part=${1#-p} ;;
    esac
    shift
  done
  [[ -n $tasks ]] || tasks=$(sed -n 's/^#SBATCH \(--ntasks=\|-n *\)\([0-9]*\).*/\2/p' "$script" | head -1)
  [[ $tasks =~ ^[0-9]+$ ]] || return 0
  # One line per partition: name (a * marks the default) and CPUs allocated/idle/other/total.
  line=$(sinfo -h -o '%P %C' 2> /dev/null) || return 0
  [[ -n $line ]] || return 0
  local avail=-1 here=
  while read -r name cpus; do
    cpus=${cpus##*/}
    ((cpus > best)) && best=$cpus best_name=${name%\*}
    if [[ -n $part && ${name%\*} == "$part" ]] || [[ -z $part && $name == *\* ]]; then avail=$cpus here=${name%\*}; fi
  done <<< "$line"
  # An unknown partition is sbatch's to refuse; without a default one, any partition may do.
  [[ -n $part && -z $here ]] && return 0
  ((avail < 0)) && avail=$best here=$best_name
  if ((tasks > avail)); then
    echo "submit: ${script##*/} asks for $tasks tasks, but partition $here has $avail CPUs (the largest, $best_name, has $best): Slurm would accept the job and leave it pending forever. Submit with at most that many, e.g. --ntasks=$((avail > 0 ? avail : best))" >&2
    return 2
  fi
  return 0
}
